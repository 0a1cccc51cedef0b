import type { StoredEvent } from "./event.ts";
import { missingFrom, toLine } from "./ndjson.ts";

/** A day's latest file as read: its part number and text. */
export interface LatestFile {
  part: number;
  text: string;
}

export interface AppendPlan {
  /** The part to write: the latest one, or the next when the latest is full. */
  part: number;
  /** What the part holds now ("" for a new part); the lines go after it. */
  base: string;
  lines: string[];
  /** How many of the leading batches are stored once `lines` are written (some may be there already). */
  taken: number;
}

/**
 * Plans one write to one file: as many whole batches, in order, as fit in the day's latest file
 * (or, when it is full, in a new part), leaving out events the file already holds.
 *
 * A batch is never split across files, and each write goes to the day's newest part. So a writer
 * that died after its write landed left its events in the file its successor reads first, where
 * they are found and skipped: nothing is stored twice. A part always takes at least one batch, so
 * a batch larger than the cap is still stored.
 */
export function planAppend(
  latest: LatestFile | undefined,
  batches: readonly (readonly StoredEvent[])[],
  maxBytes: number,
): AppendPlan {
  let part = latest?.part ?? 1;
  let base = latest?.text ?? "";
  let size = Buffer.byteLength(base);
  const lines: string[] = [];
  let taken = 0;
  for (const batch of batches) {
    const batchLines = missingFrom(base, batch).map(toLine);
    if (batchLines.length === 0) {
      taken += 1;
      continue;
    }
    const batchSize = batchLines.reduce((total, line) => total + Buffer.byteLength(line), 0);
    if (size > 0 && size + batchSize > maxBytes) {
      if (lines.length > 0 || base === "") break;
      part += 1;
      base = "";
      size = 0;
    }
    lines.push(...batchLines);
    size += batchSize;
    taken += 1;
  }
  return { part, base, lines, taken };
}
