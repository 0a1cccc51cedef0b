import type { StoredEvent } from "../events/stored-event.ts";

const EXTENSION = ".ndjson";
const PART_DIGITS = 4;

/**
 * Where a day's events live: `<prefix>/YYYY/MM/DD.ndjson`, then `DD.part-0002.ndjson`, ... once a
 * file reaches the size cap. "." sorts before "p", so every part sorts after the first file and
 * before the next day, and a plain lexicographic listing is chronological.
 */
export interface Partition {
  /** UTC date of `created_at`, `YYYY-MM-DD`. */
  day: string;
  /** Folder holding the day's files, e.g. `telemetry/2026/11`. */
  dir: string;
}

export function partitionOf(createdAt: string, prefix: string): Partition {
  const day = createdAt.slice(0, 10);
  const [year, month] = day.split("-");
  return { day, dir: [prefix, year, month].filter(Boolean).join("/") };
}

function partFileName(day: string, part: number): string {
  const dd = day.slice(8, 10);
  return part === 1 ? `${dd}${EXTENSION}` : `${dd}.part-${String(part).padStart(PART_DIGITS, "0")}${EXTENSION}`;
}

export function partPath(partition: Partition, part: number): string {
  return `${partition.dir}/${partFileName(partition.day, part)}`;
}

/** The number of the day's newest part among a folder's file names, if any. */
export function latestPart(names: Iterable<string>, day: string): { part: number } | undefined {
  const dd = day.slice(8, 10);
  const pattern = new RegExp(`^${dd}(?:\\.part-(\\d{${PART_DIGITS},}))?\\${EXTENSION}$`);
  let latest: { part: number } | undefined;
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const part = match[1] ? Number(match[1]) : 1;
    if (!latest || part > latest.part) latest = { part };
  }
  return latest;
}

/** Items by the UTC day of their `created_at`, oldest day first, each day's in their order. */
export function groupByDay<T>(items: Iterable<T>, createdAt: (item: T) => string): T[][] {
  const days = new Map<string, T[]>();
  for (const item of items) {
    const day = createdAt(item).slice(0, 10);
    const group = days.get(day);
    if (group) group.push(item);
    else days.set(day, [item]);
  }
  return [...days.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, group]) => group);
}
