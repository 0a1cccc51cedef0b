import type { Clock } from "../clock.ts";
import { mapLimit } from "../spool/map-limit.ts";
import { fetchAhead } from "../storage/fetch-ahead.ts";
import { dayParts } from "../storage/layout/day-parts.ts";
import { listDaySources } from "../storage/layout/list-day-sources.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";
import { LONGEST_READ_MS, tallyDays } from "../tally/tally-days.ts";
import { readPeriod } from "./read-period.ts";
import { reportFigures } from "./report-figures.ts";

const LISTINGS_AT_ONCE = 8;

/** What a check of the rollups found: the days checked, and each figure where a rollup and the files disagree. */
export interface RollupCheck {
  days: number;
  /** `YYYY-MM-DD figure: rollup X, raw files Y`, one a figure. */
  differences: string[];
}

/**
 * Holds each day of the period that has both files and a rollup, as `telemetry report` reads it (its
 * rollup, continued if behind), against the same day counted again from every byte of its files (all of
 * them in one download), figure by figure as the report shows them.
 */
export async function verifyRollups(
  files: RepositoryFiles,
  options: { prefix: string; from: string; to: string; clock: Clock },
): Promise<RollupCheck> {
  const { prefix, from, to, clock } = options;
  const deadline = clock.now() + LONGEST_READ_MS;
  const fast = await readPeriod(files, options);
  const sources = await listDaySources(files, { prefix, from, to, deadline });
  const parts = (await mapLimit(sources, LISTINGS_AT_ONCE, (source) => dayParts(files, source, deadline))).flat();
  const ahead = fetchAhead(files, parts, { deadline });
  const reading = { list: files.list.bind(files), read: ahead.read };
  const raw = await tallyDays(reading, { prefix, from, to, clock }).finally(() => ahead.close());
  const counted = new Map(raw.days.filter((d) => d.read === "files").map((d) => [d.day, d.tally]));
  const rolled = fast.days.filter((d) => counted.has(d.day) && d.read !== "files");
  const differences = rolled.flatMap(({ day, tally }) =>
    [...differing(reportFigures(day, tally), reportFigures(day, counted.get(day)!))].map(
      ([figure, [rollup, files]]) => `${day} ${figure}: rollup ${shown(rollup)}, raw files ${shown(files)}`,
    ),
  );
  return { days: rolled.length, differences };
}

function* differing(left: Map<string, unknown>, right: Map<string, unknown>): Generator<[string, [unknown, unknown]]> {
  for (const key of new Set([...left.keys(), ...right.keys()])) {
    if (JSON.stringify(left.get(key)) !== JSON.stringify(right.get(key))) yield [key, [left.get(key), right.get(key)]];
  }
}

function shown(value: unknown): string {
  return value === undefined ? "none" : JSON.stringify(value);
}
