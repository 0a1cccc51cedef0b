import { z } from "zod";
import { FIGURE_SHAPES } from "./figures.ts";
import { lines } from "./figures/figure.ts";
import { withCountries } from "./figures/keyed-counts.ts";
import { IngestFigures } from "./ingest-figures.ts";
import { InstallSet } from "./install-set.ts";

/** Where the rollups (and their index) live in the data repository: `rollups/YYYY/YYYY-MM-DD.json`. */
export const ROLLUPS_DIR = "rollups";

/** Where a day's rollup lives: `rollups/YYYY/YYYY-MM-DD.json`. */
export function rollupPath(day: string): string {
  return `${ROLLUPS_DIR}/${day.slice(0, 4)}/${day}.json`;
}

/** The rollup format's version: format 2 (HyperLogLog sketches, no first versions) is upgraded on read. */
export const ROLLUP_VERSION = 3;
const LEGACY_VERSION = 2;

/**
 * How far a day's files have been read: each part's bytes taken, so that the next run reads only what
 * was appended, and a hash of those bytes, so that a part rewritten since (an erasure) is noticed.
 */
const rollupPartSchema = z.object({
  name: z
    .string()
    .describe("The part's file name in the day's folder, e.g. 0001.ndjson (or the day's file, old layout)"),
  bytes: lines.describe("Bytes read, up to the end of the last whole line"),
  lines: lines.describe("Lines read, so that a later line is named by its number"),
  prefix: z
    .string()
    .describe("sha256 of the bytes read (hex, first 16 digits): a part whose first bytes differ was rewritten"),
  blob: z.string().nullable().describe("The part's git id when read (null where the store has none)"),
});

/** How far one part was read, tied to what it read. */
export type RollupPart = z.output<typeof rollupPartSchema>;

/**
 * One UTC day of telemetry, computed from that day's NDJSON files (which stay the truth: a rollup
 * can always be rebuilt from them). Every figure leaves out test-client traffic. Counts of installs
 * are sketches, so that weeks and months are the union of their days. After the day and how far
 * its files were read come the files' own figures, then each figure's keys (lib/tally/figures/).
 */
export const dayRollupSchema = z
  .object({
    version: z.literal(ROLLUP_VERSION),
    day: z.iso.date(),
    updated_at: z.iso.datetime({ precision: 3 }),
    complete: z.boolean().describe("The day is over and its files were read to their end"),
    source: z
      .string()
      .nullable()
      .describe("What the day's files were when read to their end (git ids): unchanged, there is nothing new to read"),
    parts: z.array(rollupPartSchema),
    ingest: IngestFigures.schema,
    ...FIGURE_SHAPES,
  })
  .meta({ title: "Daily telemetry rollup" });

export type DayRollup = z.output<typeof dayRollupSchema>;

/** A rollup as read: `upgraded` when it was of format 2, its installs estimates at that format's precision. */
export interface ReadRollup {
  rollup: DayRollup;
  upgraded: boolean;
}

/**
 * A stored rollup (parsed JSON) in this format, or undefined when it is not one. A rollup of format 2
 * is upgraded in memory: a day whose raw files are gone (retention) has no other record, so that its
 * sketches are kept as estimates (2^14 registers for the day's installs, 2^11 for the rest) and its
 * error groups' first version is unknown. A day that still has its files is rebuilt from them instead.
 * A rollup of either format written before countries were kept is given them (see withCountries):
 * exactly, with no new format, since none of its lines had a country.
 */
export function readRollup(json: unknown): ReadRollup | undefined {
  const version = (json as { version?: unknown } | null | undefined)?.version;
  if (version !== LEGACY_VERSION) {
    const parsed = dayRollupSchema.safeParse(withCountries(json));
    return parsed.success ? { rollup: parsed.data, upgraded: false } : undefined;
  }
  try {
    const parsed = dayRollupSchema.safeParse(withCountries({ ...(upgraded(json) as object), version: ROLLUP_VERSION }));
    return parsed.success ? { rollup: parsed.data, upgraded: true } : undefined;
  } catch {
    // A sketch that does not decode.
    return undefined;
  }
}

/** Format 2's figures in format 3: every `installs` sketch re-encoded as a set, error groups given `first_version`. */
function upgraded(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => upgraded(item));
  if (typeof value !== "object" || value === null) return value;
  const fields = Object.entries(value).map(([key, field]) => [
    key,
    key === "installs" && typeof field === "string"
      ? InstallSet.decode(field, { legacy: true }).encode()
      : upgraded(field),
  ]);
  const isErrorGroup = "fingerprint" in value && "exception_type" in value;
  return Object.fromEntries(isErrorGroup ? [...fields, ["first_version", null]] : fields);
}
