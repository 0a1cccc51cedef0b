import type { Clock } from "../clock.ts";
import { mapLimit } from "../spool/map-limit.ts";
import { fetchAhead } from "../storage/fetch-ahead.ts";
import { dayParts } from "../storage/layout/day-parts.ts";
import type { DaySource } from "../storage/layout/day-sources.ts";
import { isClosed } from "../storage/layout/is-closed.ts";
import { listDaySources } from "../storage/layout/list-day-sources.ts";
import type { RepositoryEntry, RepositoryFiles } from "../storage/repository-files.ts";
import { rollupPath, type DayRollup } from "../tally/day-rollup.ts";
import { EventTally } from "../tally/event-tally.ts";
import { LONGEST_READ_MS, rollupDays, unreadableRollup, type TalliedDays } from "../tally/tally-days.ts";
import { readIndex, storedRollup } from "./publish-insights.ts";
import { partsToRead, rollUpDay, sourceSignature } from "./roll-up-day.ts";

/** Rollups and listings fetched at once: GitHub serves reads in parallel, 100-300 ms each. */
const READS_AT_ONCE = 8;

/** A day of the period and where its figures come from. */
interface PlannedDay {
  day: string;
  /** Its files, if it still has any. */
  source: DaySource | undefined;
  /** Its rollup, if there is one of this version. */
  rollup: DayRollup | undefined;
  /** The rollup holds every file as listed now: nothing to read. */
  current: boolean;
}

/**
 * The tallies of the days from `from` to `to`, each from its rollup where it can be: a day whose rollup is
 * current (the git ids the rollups' index keeps for it are those listed now) is its rollup; one whose rollup
 * is behind is continued from its cursors by the rollups' own code (rollUpDay: only the bytes appended
 * since); one without a rollup (or of another version) is read from its files; one whose files are gone
 * is its rollup. Whatever must be downloaded comes in one download (RepositoryFiles.readFiles), read as it
 * arrives. Without git ids (a local folder) no rollup can be told current: each is continued, which reads
 * the parts grown since.
 */
export async function readPeriod(
  files: RepositoryFiles,
  { prefix, from, to, clock }: { prefix: string; from: string; to: string; clock: Clock },
): Promise<TalliedDays> {
  const deadline = clock.now() + LONGEST_READ_MS;
  const listings = new Map<string, Promise<RepositoryEntry[]>>();
  // rollUpDay lists the day folders planning listed already: each is asked once.
  const list = (dir: string) => {
    if (!listings.has(dir)) listings.set(dir, files.list(dir, { deadline }));
    return listings.get(dir)!;
  };
  const plan = await planDays(files, { prefix, from, to, deadline, now: clock.now() });
  const toRead = plan.filter((day): day is PlannedDay & { source: DaySource } => !day.current && !!day.source);
  const partsOf = await mapLimit(toRead, READS_AT_ONCE, (day) => dayParts({ list }, day.source, deadline));
  const wanted = toRead.flatMap((day, i) => partsToRead(day.rollup, partsOf[i]!));
  const ahead = fetchAhead(files, wanted, { deadline });
  const result: TalliedDays = { days: [], malformed: [], bytesRead: 0, filesRead: 0 };
  try {
    for (const { day, source, rollup, current } of plan) {
      if (current || !source) {
        result.days.push({ day, tally: EventTally.fromRollup(rollup!), read: "rollup" });
        continue;
      }
      const read = await rollUpDay({ list, read: ahead.read }, source, rollup, { deadline, clock });
      result.days.push({ day, tally: read.tally, read: rollup ? "continued" : "files" });
      result.malformed.push(...read.malformed);
      result.bytesRead += read.bytesRead;
      result.filesRead += read.filesRead;
    }
  } finally {
    await ahead.close();
  }
  return result;
}

/**
 * Each day of the period with files or a rollup, oldest first, and whether its rollup is current. Days
 * whose files are gone are found from the rollups' own folders (an index of an earlier format may not
 * name them). A rollup upgraded from format 2 is used only where the files are gone: they count exactly.
 */
async function planDays(
  files: RepositoryFiles,
  { prefix, from, to, deadline, now }: { prefix: string; from: string; to: string; deadline: number; now: number },
): Promise<PlannedDay[]> {
  const [index, sources, rollups] = await Promise.all([
    readIndex(files, deadline),
    listDaySources(files, { prefix, from, to, deadline }),
    rollupDays(files, { from, to, deadline }),
  ]);
  const bySource = new Map(sources.map((source) => [source.day, source]));
  const days = [...new Set([...bySource.keys(), ...rollups])];
  const planned = await mapLimit(days.sort(), READS_AT_ONCE, async (day): Promise<PlannedDay | undefined> => {
    const source = bySource.get(day);
    const known = index.days[day];
    const stored = known || !source ? await storedRollup(files, day, deadline) : undefined;
    if (!source) {
      // Its files gone: the rollup is all there is, and a period short of a day would pass for whole.
      if (!stored) throw new Error(unreadableRollup(rollupPath(day)));
      return { day, source, rollup: stored.rollup, current: true };
    }
    const rollup = stored && !stored.upgraded ? stored.rollup : undefined;
    const signature = sourceSignature(source);
    // A day closed since its rollup was written may hold a last line without a newline, then counted.
    const current =
      rollup !== undefined &&
      signature !== undefined &&
      known?.source === signature &&
      (known.complete || !isClosed(day, now));
    return { day, source, rollup, current };
  });
  return planned.filter((day) => day !== undefined);
}
