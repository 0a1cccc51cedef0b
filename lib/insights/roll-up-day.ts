import { createHash } from "node:crypto";
import { DAY_MS, type Clock } from "../clock.ts";
import type { RepositoryEntry, RepositoryFiles } from "../storage/repository-files.ts";
import { ROLLUP_VERSION, type DayRollup } from "../tally/day-rollup.ts";
import { EventTally } from "../tally/event-tally.ts";
import { tallyLines, type MalformedLine } from "../tally/tally-lines.ts";

/** A part's name in a day folder: `0001.ndjson`. */
const PART_NAME = /^\d{4,}\.ndjson$/;
/** A day's file of the layout before day folders: `22.ndjson`, then `22.part-0002.ndjson`. */
const OLD_LAYOUT = /^(\d{2})(?:\.part-(\d+))?\.ndjson$/;
/** Late events (a spool drained after midnight) still land in a day this long after it ended: only then is it closed. */
const CLOSE_AFTER_MS = 2 * 60 * 60 * 1000;
/** Parts fetched while one is counted. */
const READ_AHEAD = 4;

/** A day's files as a month folder's listing shows them. */
export interface DaySource {
  day: string;
  /** The day folder (`DD/`), if there is one. */
  folder: RepositoryEntry | undefined;
  /** Files of the old layout (`DD.ndjson`, `DD.part-NNNN.ndjson`), in part order. */
  oldFiles: RepositoryEntry[];
}

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

/** The days a month folder's listing holds files of, by day. */
export function daySources(month: string, entries: readonly RepositoryEntry[]): Map<string, DaySource> {
  const days = new Map<string, DaySource>();
  const sourceOf = (dd: string) => {
    const day = `${month}-${dd}`;
    let source = days.get(day);
    if (!source) {
      source = { day, folder: undefined, oldFiles: [] };
      days.set(day, source);
    }
    return source;
  };
  for (const entry of entries) {
    if (entry.type === "dir" && /^\d{2}$/.test(entry.name)) sourceOf(entry.name).folder = entry;
    const old = entry.type === "file" ? OLD_LAYOUT.exec(entry.name) : null;
    if (old) sourceOf(old[1]!).oldFiles.push(entry);
  }
  for (const source of days.values()) source.oldFiles.sort((a, b) => partNumber(a.name) - partNumber(b.name));
  return days;
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

/** One file of a day: its name in the month folder (`22.ndjson`, `22/0001.ndjson`), path and size. */
export interface DayPart {
  name: string;
  path: string;
  size: number;
}

/** A day's files in the order they were written: the old layout's, then the day folder's parts. */
export async function dayParts(files: RepositoryFiles, source: DaySource, deadline: number): Promise<DayPart[]> {
  const parts = source.oldFiles.map((file) => ({ name: file.name, path: file.path, size: file.size }));
  if (!source.folder) return parts;
  const listed = await files.list(source.folder.path, { deadline });
  const named = listed.filter((entry) => entry.type === "file" && PART_NAME.test(entry.name));
  named.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const part of named)
    parts.push({ name: `${source.folder.name}/${part.name}`, path: part.path, size: part.size });
  return parts;
}

/** Whether no more events can land in `day` (it ended long enough ago): its last line then needs no newline. */
export function isClosed(day: string, now: number): boolean {
  return now >= Date.parse(`${day}T00:00:00Z`) + DAY_MS + CLOSE_AFTER_MS;
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
  const tally = continues ? EventTally.fromRollup(previous!) : new EventTally();
  const cursor = new Map((continues ? previous!.parts : []).map((read) => [read.name, { ...read }]));
  const dayOver = isClosed(source.day, clock.now());
  const malformed: MalformedLine[] = [];
  let bytesRead = 0;
  let filesRead = 0;
  let caughtUp = true;
  const cursorOf = (part: (typeof parts)[number]) => {
    const read = cursor.get(part.name) ?? { name: part.name, bytes: 0, lines: 0 };
    cursor.set(part.name, read);
    return read;
  };
  const unread = parts.filter((part) => part.size > cursorOf(part).bytes);
  // A few parts are fetched ahead while one is counted: GitHub answers in 100-300 ms, a part is counted in 5.
  const fetching: Promise<Buffer | undefined>[] = [];
  let fetched = 0;
  for (const part of unread) {
    while (fetched < unread.length && fetching.length < READ_AHEAD && clock.now() < deadline) {
      fetching.push(files.read(unread[fetched]!.path, { deadline }));
      fetched += 1;
    }
    const next = fetching.shift();
    if (!next) {
      caughtUp = false;
      break;
    }
    const bytes = await next;
    if (!bytes) continue;
    const read = cursorOf(part);
    bytesRead += bytes.length;
    filesRead += 1;
    const tallied = tallyLines(
      tally,
      bytes.subarray(read.bytes),
      { path: part.path, firstLine: read.lines + 1 },
      {
        final: dayOver,
      },
    );
    tally.ingest.bytes += tallied.bytes;
    read.bytes += tallied.bytes;
    read.lines += tallied.lines;
    malformed.push(...tallied.malformed);
  }
  // Reads fetched ahead past the deadline are left to settle unread.
  void Promise.allSettled(fetching);
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

function partNumber(name: string): number {
  return Number(OLD_LAYOUT.exec(name)?.[2] ?? 1);
}
