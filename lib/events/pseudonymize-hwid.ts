import { createHmac } from "node:crypto";
import type { HwidMode } from "../config.ts";

/** Hex characters kept of the HMAC: 128 bits, so that no two installs ever share one. */
const HASH_HEX_CHARS = 32;

const STORED_HASH = new RegExp(`^[0-9a-f]{${HASH_HEX_CHARS}}$`);

/** Whether `value` has the shape of a hash this module stores (a client's id may too, rarely: a UUID has dashes). */
export function looksPseudonymized(value: string): boolean {
  return STORED_HASH.test(value);
}

/**
 * An install's id as the configured mode stores it: `full` as sent, `hash` as a keyed HMAC-SHA256
 * with a secret salt, so that a repository others can read never holds an id a client sent (and,
 * without the salt, no one can find a known id's lines, nor ask to erase them). The same id gives
 * the same value while the salt stays: installs, erasure and export still work.
 */
export function pseudonymizeHwid(hwid: string, mode: HwidMode, salt: string | undefined): string {
  if (mode === "full") return hwid;
  if (!salt) throw new Error("TELEMETRY_HWID_SALT is required to hash install ids");
  return createHmac("sha256", salt).update(hwid).digest("hex").slice(0, HASH_HEX_CHARS);
}
