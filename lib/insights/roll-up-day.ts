import { createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import { dayParts, type DayPart } from "../storage/layout/day-parts.ts";
import type { DaySource } from "../storage/layout/day-sources.ts";
import { isClosed } from "../storage/layout/is-closed.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";
import { ROLLUP_VERSION, type DayRollup, type RollupPart } from "../tally/day-rollup.ts";
import { EventTally } from "../tally/event-tally.ts";
import type { MalformedLine } from "../tally/tally-lines.ts";
import { tallyParts } from "../tally/tally-parts.ts";

export interface DayRead {
  rollup: DayRollup;
  tally: EventTally;
  malformed: MalformedLine[];
  /** Bytes downloaded, and files read. */
  bytesRead: number;
  filesRead: number;
  /** Every file was read to its end (false: the deadline came first; the next run goes on). */
  caughtUp: boolean;
}

/**
 * What a day's files were when last read: git's ids of the day folder and the old layout's files,
 * so that a listing of the month tells, for free, which days changed. Undefined where the store
 * has no such ids (a local folder): the day is read whenever asked.
 */
export function sourceSignature(source: DaySource): string | undefined {
  const ids = [source.folder?.sha ?? "-", ...source.oldFiles.map((file) => `${file.name}:${file.sha}`)];
  if (source.folder?.sha === "" || source.oldFiles.some((file) => file.sha === "")) return undefined;
  return createHash("sha256").update(ids.join("\n")).digest("hex");
}

/**
 * Brings a day's rollup up to date from its files: from `previous`, only the bytes appended since
 * (each part's cursor), else from the start; parts are read oldest first, and reading stops at the
 * deadline, leaving the cursor where it got to. A cursor is trusted only for the bytes it read: a
 * previous rollup of another format, one whose part is gone or shorter, or one whose part's first
 * bytes differ from those it read (an erasure rewrote it) is not continued: the day is read again
 * from its start (the parts already downloaded are not fetched twice).
 */
export async function rollUpDay(
  files: Pick<RepositoryFiles, "list" | "read">,
  source: DaySource,
  previous: DayRollup | undefined,
  { deadline, clock, installKey }: { deadline: number; clock: Clock; installKey?: string },
): Promise<DayRead> {
  const parts = await dayParts(files, source, deadline);
  const dayOver = isClosed(source.day, clock.now());
  const continues = continuesFrom(previous, parts);
  const fetched = new Map<string, Promise<Buffer | undefined>>();
  const keeping: Pick<RepositoryFiles, "read"> = {
    read: (path, options) => {
      const bytes = files.read(path, options);
      fetched.set(path, bytes);
      return bytes;
    },
  };
  const count = (from: DayRollup | undefined, reader: Pick<RepositoryFiles, "read">) =>
    countDay(reader, parts, from, { final: dayOver, deadline, clock, installKey });
  let day = await count(continues ? previous : undefined, continues ? keeping : files);
  if (day.read.stale) {
    const again: Pick<RepositoryFiles, "read"> = {
      read: (path, options) => fetched.get(path) ?? files.read(path, options),
    };
    const first = day.read;
    day = await count(undefined, again);
    day.read.bytesRead += first.bytesRead;
    day.read.filesRead += first.filesRead;
  }
  const { tally, cursor, read } = day;
  const { malformed, bytesRead, filesRead, caughtUp } = read;
  tally.ingest.parts = cursor.size;
  const rollup = tally.toRollup({
    day: source.day,
    updated_at: new Date(clock.now()).toISOString(),
    complete: dayOver && caughtUp,
    source: caughtUp ? (sourceSignature(source) ?? null) : null,
    parts: [...cursor.values()],
  });
  return { rollup, tally, malformed, bytesRead, filesRead, caughtUp };
}

/** Whether `previous`'s cursors can be continued on `parts`: of this format, and no part read is gone or shorter. */
function continuesFrom(previous: DayRollup | undefined, parts: readonly DayPart[]): previous is DayRollup {
  return (
    previous?.version === ROLLUP_VERSION &&
    previous.parts.every((read) => parts.some((part) => part.name === read.name && part.size >= read.bytes))
  );
}

/** The parts rollUpDay downloads to bring `previous` up to date (all of them without it): what it can fetch ahead. */
export function partsToRead(previous: DayRollup | undefined, parts: readonly DayPart[]): DayPart[] {
  if (!continuesFrom(previous, parts)) return [...parts];
  const cursors = new Map(previous.parts.map((read) => [read.name, read]));
  return parts.filter((part) => {
    const read = cursors.get(part.name);
    return !read || part.size > read.bytes || isRewritten(read, part);
  });
}

/** A part of the same size whose git id changed was rewritten: read, its prefix tells. */
function isRewritten(read: RollupPart, part: DayPart): boolean {
  return part.sha !== "" && read.blob !== null && read.blob !== part.sha;
}

/** Counts the day's parts from `previous`'s cursors (or from the start), each part's cursor tied to its git id. */
async function countDay(
  files: Pick<RepositoryFiles, "read">,
  parts: readonly DayPart[],
  previous: DayRollup | undefined,
  options: { final: boolean; deadline: number; clock: Clock; installKey: string | undefined },
) {
  const tally = previous
    ? EventTally.fromRollup(previous, tallyOptions(options.installKey))
    : new EventTally(tallyOptions(options.installKey));
  const cursor = new Map<string, RollupPart>((previous?.parts ?? []).map((read) => [read.name, { ...read }]));
  const toRead = parts.map((part) => {
    const known = cursor.get(part.name);
    const read = known ?? { name: part.name, bytes: 0, lines: 0, prefix: "", blob: null };
    cursor.set(part.name, read);
    const reread = known !== undefined && isRewritten(known, part);
    return { path: part.path, size: part.size, cursor: read, reread };
  });
  const read = await tallyParts(tally, files, toRead, options);
  // Every part read to its end: each cursor holds the part its git id names (a day left half-read rereads one).
  if (read.caughtUp && !read.stale) parts.forEach((part) => (cursor.get(part.name)!.blob = part.sha || null));
  return { tally, cursor, read };
}

function tallyOptions(installKey: string | undefined) {
  return installKey === undefined ? {} : { installKey };
}
