import type { RepositoryEntry } from "../repository-files.ts";

/** A day's file of the layout before day folders: `22.ndjson`, then `22.part-0002.ndjson`. */
const OLD_LAYOUT = /^(\d{2})(?:\.part-(\d+))?\.ndjson$/;

/** A day's files as a month folder's listing shows them. */
export interface DaySource {
  day: string;
  /** The day folder (`DD/`), if there is one. */
  folder: RepositoryEntry | undefined;
  /** Files of the old layout (`DD.ndjson`, `DD.part-NNNN.ndjson`), in part order. */
  oldFiles: RepositoryEntry[];
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

function partNumber(name: string): number {
  return Number(OLD_LAYOUT.exec(name)?.[2] ?? 1);
}
