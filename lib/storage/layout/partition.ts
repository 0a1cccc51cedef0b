const EXTENSION = ".ndjson";
const PART_DIGITS = 4;
/** A part's file name: its number, zero-padded so that a plain lexicographic listing is in order. */
export const PART_NAME = new RegExp(`^(\\d{${PART_DIGITS},})\\${EXTENSION}$`);

/**
 * Where a day's events live: a folder of their own, `<prefix>/YYYY/MM/DD/`, holding `0001.ndjson`,
 * then `0002.ndjson`, ... as each reaches the size cap. A folder per day keeps every folder small
 * (a month folder holds at most 31 entries; a day at a million events, about 330 parts at the
 * default cap), so that GitHub's directory listing, which stops at 1,000 entries, lists it whole.
 */
export interface Partition {
  /** UTC date of `created_at`, `YYYY-MM-DD`. */
  day: string;
  /** Folder holding the day's parts, e.g. `telemetry/2026/11/22`. */
  dir: string;
}

export function partitionOf(createdAt: string, prefix: string): Partition {
  const day = createdAt.slice(0, 10);
  return { day, dir: [prefix, ...day.split("-")].filter(Boolean).join("/") };
}

export function partPath(partition: Partition, part: number): string {
  return `${partition.dir}/${String(part).padStart(PART_DIGITS, "0")}${EXTENSION}`;
}

/** The number of the newest part among a day folder's file names, if any. */
export function latestPart(names: Iterable<string>): { part: number } | undefined {
  let latest: { part: number } | undefined;
  for (const name of names) {
    const match = PART_NAME.exec(name);
    if (!match) continue;
    const part = Number(match[1]);
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
