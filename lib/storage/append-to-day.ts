import type { StoredEvent } from "../events/stored-event.ts";
import { appendLines } from "./ndjson-line.ts";
import { latestPart, partitionOf, partPath } from "./layout/partition.ts";
import { planAppend } from "./plan-append.ts";
import type { CommitOptions, CommitResult } from "./event-store.ts";

/** What a store supplies to append to a day: its files' listing, reading and writing. */
export interface DayFiles {
  /** The names of the files in `dir`; [] when there is no such folder. */
  list(dir: string): Promise<string[]>;
  /** A file's text, and the version a write over it must name; undefined when there is no such file. */
  read(path: string): Promise<{ text: string; version?: string } | undefined>;
  /**
   * Makes `text` the file's content; it starts with `base`, what the file held when read at
   * `version` ("" and undefined for a new file). Returns the bytes sent.
   */
  write(
    path: string,
    file: { base: string; text: string; version: string | undefined; message: string },
  ): Promise<number>;
}

export interface DayLayout {
  /** The folder inside the repository (or local folder) that holds the tree; "" for the root. */
  prefix: string;
  maxFileBytes: number;
}

/**
 * One write to the day's newest part: as many of the leading `batches` (all of one UTC day) as
 * fit, less the events the part already holds (see planAppend); the next part when it is full.
 */
export async function appendToDay(
  files: DayFiles,
  batches: readonly (readonly StoredEvent[])[],
  { prefix, maxFileBytes }: DayLayout,
  { beforeWrite }: Pick<CommitOptions, "beforeWrite"> = {},
): Promise<CommitResult> {
  const first = batches.find((batch) => batch.length > 0)?.[0];
  if (!first) return { batches: batches.length, events: 0, path: undefined, bytes: 0 };
  const partition = partitionOf(first.created_at, prefix);
  const latest = latestPart(await files.list(partition.dir));
  const file = latest ? await files.read(partPath(partition, latest.part)) : undefined;
  const plan = planAppend(latest && file ? { part: latest.part, text: file.text } : undefined, batches, maxFileBytes);
  const count = plan.lines.length;
  if (count === 0) return { batches: plan.taken, events: 0, path: undefined, bytes: 0 };
  await beforeWrite?.();
  const path = partPath(partition, plan.part);
  const bytes = await files.write(path, {
    base: plan.base,
    text: appendLines(plan.base, plan.lines),
    version: plan.part === latest?.part ? file?.version : undefined,
    message: `Append ${count} telemetry event${count === 1 ? "" : "s"} for ${partition.day}`,
  });
  return { batches: plan.taken, events: count, path, bytes };
}
