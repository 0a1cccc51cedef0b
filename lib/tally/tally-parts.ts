import { createHash, type Hash } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";
import type { EventTally } from "./event-tally.ts";
import { tallyLines, type MalformedLine } from "./tally-lines.ts";

/** Parts being fetched at once: GitHub answers in 100-300 ms, a part is counted in 5. */
const READS_IN_FLIGHT = 4;

/** A day's file to count: its path, its size when a listing told it, and how far it was counted before. */
export interface PartToRead {
  path: string;
  size?: number;
  /**
   * Bytes and lines already counted (a rollup's cursor), and a hash of those bytes: moved on as the
   * part is read. A part whose first bytes no longer hash to `prefix` was rewritten: not counted.
   */
  cursor?: { bytes: number; lines: number; prefix?: string };
  /** Read even if no longer than the cursor (its git id changed). */
  reread?: boolean;
}

export interface TalliedParts {
  malformed: MalformedLine[];
  /** Bytes downloaded, and files read. */
  bytesRead: number;
  filesRead: number;
  /** Every part was read to its end (false: the deadline came first). */
  caughtUp: boolean;
  /** A part's first bytes were not those its cursor read (rewritten since): counting stopped there. */
  stale: boolean;
}

/** What a cursor keeps of the bytes it read: enough to tell a rewritten part, far too little to hold its content. */
function prefixDigest(hash: Hash): string {
  return hash.copy().digest("hex").slice(0, 16);
}

/**
 * Counts `parts` into `tally`, oldest first, each from its cursor: the one loop over a day's parts
 * (a few fetched ahead while one is counted), whether they are read here or in a worker thread.
 * Reading stops at the deadline, leaving the cursors where they got to. `final`: the day is closed,
 * so a part's last line needs no newline.
 */
export async function tallyParts(
  tally: EventTally,
  files: Pick<RepositoryFiles, "read">,
  parts: readonly PartToRead[],
  {
    final,
    deadline,
    clock,
    readsInFlight = READS_IN_FLIGHT,
  }: { final: boolean; deadline: number; clock: Clock; readsInFlight?: number },
): Promise<TalliedParts> {
  const result: TalliedParts = { malformed: [], bytesRead: 0, filesRead: 0, caughtUp: true, stale: false };
  const unread = parts.filter(
    (part) => part.reread || part.size === undefined || part.size > (part.cursor?.bytes ?? 0),
  );
  const fetching: Promise<Buffer | undefined>[] = [];
  let fetched = 0;
  for (const part of unread) {
    while (fetched < unread.length && fetching.length < readsInFlight && clock.now() < deadline) {
      fetching.push(files.read(unread[fetched]!.path, { deadline }));
      fetched += 1;
    }
    const next = fetching.shift();
    if (!next) {
      result.caughtUp = false;
      break;
    }
    const bytes = await next;
    if (!bytes) continue;
    const from = part.cursor ?? { bytes: 0, lines: 0 };
    result.bytesRead += bytes.length;
    result.filesRead += 1;
    const read = part.cursor && createHash("sha256").update(bytes.subarray(0, from.bytes));
    if (read && from.bytes > 0 && (bytes.length < from.bytes || prefixDigest(read) !== from.prefix)) {
      result.stale = true;
      break;
    }
    const tallied = tallyLines(
      tally,
      bytes.subarray(from.bytes),
      { path: part.path, firstLine: from.lines + 1 },
      { final },
    );
    tally.ingest.bytes += tallied.bytes;
    if (read) from.prefix = prefixDigest(read.update(bytes.subarray(from.bytes, from.bytes + tallied.bytes)));
    from.bytes += tallied.bytes;
    from.lines += tallied.lines;
    result.malformed.push(...tallied.malformed);
  }
  // Reads fetched ahead past the deadline are left to settle unread.
  void Promise.allSettled(fetching);
  return result;
}
