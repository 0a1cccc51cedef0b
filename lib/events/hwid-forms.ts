import type { IngestConfig } from "../config.ts";
import { looksPseudonymized, pseudonymizeHwid } from "./pseudonymize-hwid.ts";

/**
 * Every form an install's lines may be stored under: first the one the configuration stores now,
 * then the id as sent (lines from before TELEMETRY_HWID_MODE=hash), its hash under the salt, and
 * under TELEMETRY_HWID_PREVIOUS_SALT (lines from before the salt changed). Erasure and export look
 * for all of them. In hash mode, a value shaped like a stored hash is looked for as sent only for
 * the operator (`operator`: the CLI, which reads the repository anyway): a repository others can
 * read shows the stored hashes, and naming one must not erase, or export, its install.
 */
export function hwidForms(
  hwid: string,
  { hwidMode, hwidSalt, hwidPreviousSalt }: Pick<IngestConfig, "hwidMode" | "hwidSalt" | "hwidPreviousSalt">,
  { operator = false }: { operator?: boolean } = {},
): string[] {
  const forms = [pseudonymizeHwid(hwid, hwidMode, hwidSalt)];
  if (hwidMode === "full" || operator || !looksPseudonymized(hwid)) forms.push(hwid);
  for (const salt of [hwidSalt, hwidPreviousSalt]) if (salt) forms.push(pseudonymizeHwid(hwid, "hash", salt));
  return [...new Set(forms)];
}
