import type { RepositoryFiles } from "../repository-files.ts";
import { daySources, type DaySource } from "./day-sources.ts";

const FOUR_DIGITS = /^\d{4}$/;
const TWO_DIGITS = /^\d{2}$/;

/** The days from `from` to `to` (inclusive; YYYY-MM-DD) that have files, oldest first: a listing of each year and month in range. */
export async function listDaySources(
  files: Pick<RepositoryFiles, "list">,
  {
    prefix,
    from = "0000-01-01",
    to = "9999-12-31",
    deadline,
  }: { prefix: string; from?: string; to?: string; deadline: number },
): Promise<DaySource[]> {
  const days: DaySource[] = [];
  const years = (await files.list(prefix, { deadline })).filter(
    (entry) =>
      entry.type === "dir" &&
      FOUR_DIGITS.test(entry.name) &&
      entry.name >= from.slice(0, 4) &&
      entry.name <= to.slice(0, 4),
  );
  for (const year of years) {
    const months = (await files.list(year.path, { deadline })).filter(
      (entry) => entry.type === "dir" && TWO_DIGITS.test(entry.name),
    );
    for (const month of months) {
      const key = `${year.name}-${month.name}`;
      if (key < from.slice(0, 7) || key > to.slice(0, 7)) continue;
      for (const source of daySources(key, await files.list(month.path, { deadline })).values()) {
        if (source.day >= from && source.day <= to) days.push(source);
      }
    }
  }
  return days.sort((a, b) => (a.day < b.day ? -1 : 1));
}
