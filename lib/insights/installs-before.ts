import { mapLimit } from "../spool/map-limit.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";
import { readRollup, ROLLUPS_DIR } from "../tally/day-rollup.ts";
import { EventTally } from "../tally/event-tally.ts";
import { InstallSet } from "../tally/install-set.ts";
import type { DayTally } from "../present/period-report.ts";

const YEAR = /^\d{4}$/;
const ROLLUP_NAME = /^(\d{4}-\d{2}-\d{2})\.json$/;
/** Listings asked for at once: one a year of rollups. */
const LISTINGS_AT_ONCE = 4;

/**
 * The installs of every day before `from` whose rollup is kept (the rollups outlive the raw files), so
 * that a period's install seen on one of them counts as returning, not new: one tally holding their
 * union, dated the first of those days; none when no rollup is kept before `from`. The rollups come in
 * one download (RepositoryFiles.readFiles; GitHub: the listings of `rollups/` and of its years, then one
 * archive of just those files). A rollup that does not read (the hourly job rebuilds it) is left out.
 */
export async function installsBefore(
  files: Pick<RepositoryFiles, "list" | "readFiles">,
  { from, deadline }: { from: string; deadline: number },
): Promise<DayTally[]> {
  const years = (await files.list(ROLLUPS_DIR, { deadline })).filter(
    (entry) => entry.type === "dir" && YEAR.test(entry.name) && entry.name <= from.slice(0, 4),
  );
  const listed = (await mapLimit(years, LISTINGS_AT_ONCE, (year) => files.list(year.path, { deadline }))).flat();
  const kept = listed.filter((entry) => (ROLLUP_NAME.exec(entry.name)?.[1] ?? from) < from);
  const tally = new EventTally();
  const days: string[] = [];
  await files.readFiles(
    kept.map(({ path, sha }) => ({ path, sha })),
    (_path, bytes) => {
      const read = readRollup(jsonOf(bytes));
      if (!read) return;
      tally.installs.merge(InstallSet.decode(read.rollup.installs));
      days.push(read.rollup.day);
    },
    { deadline },
  );
  return days.length === 0 ? [] : [{ day: days.sort()[0]!, tally }];
}

function jsonOf(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}
