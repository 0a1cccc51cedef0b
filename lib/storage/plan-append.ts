import type { StoredEvent } from "../events/stored-event.ts";
import { ndjsonLine } from "./ndjson-line.ts";

/** Every stored line starts with its event id, so the ids a file holds are read without parsing it. */
const LINE_ID = /^\{"event_id":"([^"]+)"/gm;

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
 * (or in a new part), leaving out events the file already holds or an earlier batch carries.
 *
 * A batch is never split across files, and each write goes to the day's newest part. So a writer
 * that died after its write landed left its events in the file its successor reads first, where
 * they are found and skipped: nothing is stored twice. A part always takes at least one batch, so
 * a batch larger than the cap is still stored.
 *
 * Whether the next part starts depends on the latest part and the first batch alone, never on how
 * much waits behind it: a successor that holds the same first batch (a writer's hand-over while its
 * last write's outcome is unknown) makes the same choice. So it either writes the same part, naming
 * the sha it read, and conflicts if the first write landed after all; or creates the same next
 * part, and finds it there (422). Never the same event in two parts.
 */
export function planAppend(
  latest: LatestFile | undefined,
  batches: readonly (readonly StoredEvent[])[],
  maxBytes: number,
): AppendPlan {
  const seen = new Set(Array.from((latest?.text ?? "").matchAll(LINE_ID), (match) => match[1]!));
  const fresh = batches.map((batch) => {
    const lines: string[] = [];
    for (const event of batch) {
      if (seen.has(event.event_id)) continue;
      seen.add(event.event_id);
      lines.push(ndjsonLine(event));
    }
    return lines;
  });
  const bytes = (lines: readonly string[]) => lines.reduce((total, line) => total + Buffer.byteLength(line), 0);

  let part = latest?.part ?? 1;
  let base = latest?.text ?? "";
  let size = Buffer.byteLength(base);
  const lines: string[] = [];
  let taken = 0;
  for (const batchLines of fresh) {
    if (batchLines.length === 0) {
      taken += 1;
      continue;
    }
    const batchSize = bytes(batchLines);
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
