import { createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import { dayParts } from "../storage/layout/day-parts.ts";
import type { DaySource } from "../storage/layout/day-sources.ts";
import { isClosed } from "../storage/layout/is-closed.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";
import { ROLLUP_VERSION, type DayRollup } from "../tally/day-rollup.ts";
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
 * deadline, leaving the cursor where it got to. A previous rollup of another format, or one whose
 * files shrank (rewritten), is not continued: the day is read again from its start.
 */
export async function rollUpDay(
  files: RepositoryFiles,
  source: DaySource,
  previous: DayRollup | undefined,
  { deadline, clock }: { deadline: number; clock: Clock },
): Promise<DayRead> {
  const parts = await dayParts(files, source, deadline);
  const continues =
    previous?.version === ROLLUP_VERSION &&
    previous.parts.every((read) => parts.some((part) => part.name === read.name && part.size >= read.bytes));
  const tally = continues ? EventTally.fromRollup(previous) : new EventTally();
  const cursor = new Map((continues ? previous.parts : []).map((read) => [read.name, { ...read }]));
  const dayOver = isClosed(source.day, clock.now());
  const toRead = parts.map((part) => {
    const read = cursor.get(part.name) ?? { name: part.name, bytes: 0, lines: 0 };
    cursor.set(part.name, read);
    return { path: part.path, size: part.size, cursor: read };
  });
  const { malformed, bytesRead, filesRead, caughtUp } = await tallyParts(tally, files, toRead, {
    final: dayOver,
    deadline,
    clock,
  });
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
