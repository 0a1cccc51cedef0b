import type { Clock } from "../clock.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";
import { readRollup, ROLLUP_VERSION, rollupPath, ROLLUPS_DIR } from "./day-rollup.ts";
import { EventTally } from "./event-tally.ts";
import { dayParts, type DayPart } from "../storage/layout/day-parts.ts";
import { isClosed } from "../storage/layout/is-closed.ts";
import { listDaySources } from "../storage/layout/list-day-sources.ts";
import type { MalformedLine } from "./tally-lines.ts";
import { tallyParts } from "./tally-parts.ts";

const ROLLUP_NAME = /^(\d{4}-\d{2}-\d{2})\.json$/;
/** A command's reads have no time limit of their own; this one only keeps timers finite (a year of data at GitHub's pace). */
export const LONGEST_READ_MS = 6 * 60 * 60 * 1000;

/** What counting a day's parts gives. */
export interface PartsTally {
  tally: EventTally;
  malformed: MalformedLine[];
  bytesRead: number;
  filesRead: number;
}

/** Counts a day's parts some other way than one at a time here (in worker threads, say); `final`: the day is closed. */
export type CountParts = (parts: readonly DayPart[], final: boolean) => Promise<PartsTally>;

/**
 * How a day's tally was had: read whole from its files; taken from its rollup, its files unread (a
 * current rollup, or its files gone); or its rollup, behind, continued with the bytes appended since.
 */
export type ReadFrom = "files" | "rollup" | "continued";

export interface TalliedDays {
  days: { day: string; tally: EventTally; read: ReadFrom }[];
  malformed: MalformedLine[];
  bytesRead: number;
  filesRead: number;
}

/**
 * The tallies of the days from `from` to `to`, read from their files with the rollups' own code
 * (a report and a rollup cannot disagree); a day with no files left is taken from its rollup. Each
 * file is read whole, a few fetched ahead: memory holds those parts (each at most the size cap) and the tallies.
 */
export async function tallyDays(
  files: Pick<RepositoryFiles, "list" | "read">,
  {
    prefix,
    from,
    to,
    clock,
    countParts,
  }: { prefix: string; from: string; to: string; clock: Clock; countParts?: CountParts },
): Promise<TalliedDays> {
  const options = { deadline: clock.now() + LONGEST_READ_MS };
  const result: TalliedDays = { days: [], malformed: [], bytesRead: 0, filesRead: 0 };
  const countHere: CountParts = async (parts, final) => {
    const tally = new EventTally();
    const read = await tallyParts(tally, files, parts, { final, deadline: options.deadline, clock });
    tally.ingest.parts = parts.length;
    return { tally, ...read };
  };
  for (const source of await listDaySources(files, { prefix, from, to, deadline: options.deadline })) {
    const parts = await dayParts(files, source, options.deadline);
    const read = await (countParts ?? countHere)(parts, isClosed(source.day, clock.now()));
    result.days.push({ day: source.day, tally: read.tally, read: "files" });
    result.malformed.push(...read.malformed);
    result.bytesRead += read.bytesRead;
    result.filesRead += read.filesRead;
  }
  const counted = new Set(result.days.map((d) => d.day));
  for (const day of await rollupDays(files, { from, to, deadline: options.deadline })) {
    if (counted.has(day)) continue;
    const path = rollupPath(day);
    const bytes = await files.read(path, options);
    const json = bytes && jsonOf(bytes);
    const read = readRollup(json);
    if (!read) throw new Error(unreadableRollup(path, json));
    result.days.push({ day, tally: EventTally.fromRollup(read.rollup), read: "rollup" });
  }
  result.days.sort((a, b) => (a.day < b.day ? -1 : 1));
  return result;
}

/** The days from `from` to `to` that have a rollup, from the listings of the rollups' years. */
export async function rollupDays(
  files: Pick<RepositoryFiles, "list">,
  { from, to, deadline }: { from: string; to: string; deadline: number },
): Promise<string[]> {
  const days: string[] = [];
  for (let year = Number(from.slice(0, 4)); year <= Number(to.slice(0, 4)); year += 1) {
    for (const entry of await files.list(`${ROLLUPS_DIR}/${year}`, { deadline })) {
      const day = ROLLUP_NAME.exec(entry.name)?.[1];
      if (day && day >= from && day <= to) days.push(day);
    }
  }
  return days;
}

/**
 * Why a day with no files left cannot be reported: its rollup is of another format (a release that
 * changed the format rebuilds the rollups of the days that still have files, not these) or broken.
 * A report without the day would pass its figures off as the period's, so it stops and says so.
 */
export function unreadableRollup(path: string, json?: unknown): string {
  const version = (json as { version?: unknown } | undefined)?.version;
  const found = typeof version === "number" && version !== ROLLUP_VERSION;
  return found
    ? `${path} is a rollup of format version ${version} (this release reads ${ROLLUP_VERSION}), and its day's files are gone: it cannot be rebuilt; report a period without that day, or restore the day's files for the hourly job to rebuild it`
    : `${path} is not a readable rollup, and its day's files are gone: report a period without that day`;
}

function jsonOf(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}
