import { z } from "zod";
import { storedEventSchema, type StoredEvent } from "../events/stored-event.ts";
import { fingerprintError } from "../tally/fingerprint-error.ts";

export const errorSamplesSchema = z.object({
  fingerprint: z.string(),
  total: z.number().int().nonnegative().describe("Occurrences in the period (lines, whatever their sampling)"),
  page: z.number().int().nonnegative(),
  page_size: z.number().int().positive(),
  lines: z
    .array(storedEventSchema.omit({ hwid: true, ip: true }))
    .describe("This page's occurrences, newest first: the stored lines without the install id and the address"),
});

export type ErrorSamples = z.output<typeof errorSamplesSchema>;

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
