import type { IngestConfig } from "../config.ts";
import { pseudonymizeHwid } from "../events/pseudonymize-hwid.ts";

/**
 * Every form an install's lines may be stored under: first the one the configuration stores now,
 * then the id as sent (lines from before TELEMETRY_HWID_MODE=hash), its hash under the salt, and
 * under TELEMETRY_HWID_PREVIOUS_SALT (lines from before the salt changed). Erasure and export look
 * for all of them.
 */
export function hwidForms(
  hwid: string,
  { hwidMode, hwidSalt, hwidPreviousSalt }: Pick<IngestConfig, "hwidMode" | "hwidSalt" | "hwidPreviousSalt">,
): string[] {
  const forms = [pseudonymizeHwid(hwid, hwidMode, hwidSalt), hwid];
  for (const salt of [hwidSalt, hwidPreviousSalt]) if (salt) forms.push(pseudonymizeHwid(hwid, "hash", salt));
  return [...new Set(forms)];
}
