import type { StoredEvent } from "../events/stored-event.ts";
import { fingerprintError } from "../tally/fingerprint-error.ts";

/** An occurrence as the page shows it: the stored line without the install id and the address. */
type ShownLine = Omit<StoredEvent, "hwid" | "ip">;

export interface ErrorSamples {
  fingerprint: string;
  /** Occurrences in the period (lines, whatever their sampling). */
  total: number;
  page: number;
  page_size: number;
  /** This page's occurrences, newest first. */
  lines: ShownLine[];
}

/**
 * The occurrences of one error group among `lines` (grouped as the report groups them: fingerprintError),
 * newest first, a page at a time. The install id and the address never leave the machine's files.
 */
export function errorSamples(
  lines: readonly string[],
  { fingerprint, page, pageSize }: { fingerprint: string; page: number; pageSize: number },
): ErrorSamples {
  const matching = lines
    .map((line) => JSON.parse(line) as StoredEvent)
    .filter((event) => fingerprintError(event)?.fingerprint === fingerprint)
    .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  return {
    fingerprint,
    total: matching.length,
    page,
    page_size: pageSize,
    lines: matching.slice(page * pageSize, (page + 1) * pageSize).map(({ hwid: _hwid, ip: _ip, ...shown }) => shown),
  };
}
