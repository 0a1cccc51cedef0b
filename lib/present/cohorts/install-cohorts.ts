import { z } from "zod";
import { addDays, daysFrom } from "../../day.ts";
import type { EventTally } from "../../tally/event-tally.ts";
import { versionOrder } from "../../tally/figures/app-versions.ts";
import { InstallSet } from "../../tally/install-set.ts";
import { groupDays, type Grain } from "../group-days.ts";

/** The weeks after a cohort's own in which its installs are looked for again. */
const RETENTION_WEEKS = [1, 4] as const;
const RATE_DECIMALS = 4;

const count = z.number().int().nonnegative();
const exact = z
  .boolean()
  .describe(
    "Counted exactly (every set of installs read held at most 10,000); false: estimated from HyperLogLog sketches by inclusion–exclusion, |A∪B| − |B| (see the README's New and returning installs)",
  );
const days = z
  .array(z.object({ day: z.iso.date(), installs: count }))
  .describe("By the report's grain, as its `days`: each row keyed by its first day, counting only days of the period");
const weeks = z.array(z.object({ week: z.iso.date().describe("The ISO week's Monday"), installs: count }));
const retained = z
  .number()
  .min(0)
  .max(1)
  .nullable()
  .describe("Share of the cohort seen again that week, 0 to 1 (4 decimals); null until that week is over by `to`");

/** The report's keys of new and returning installs, spread into its schema. */
export const installCohortsShape = {
  new_installs: z
    .object({
      exact,
      since: z.iso
        .date()
        .nullable()
        .describe(
          "The first day whose installs are known: the earliest kept rollup before the period (null: none, so every install of the period's first day is new)",
        ),
      total: count.describe("Installs first seen in the period"),
      days,
      weeks,
    })
    .describe(
      "Installs seen for the first time in the data kept (since `since`), by the report's grain and by ISO week",
    ),
  returning_installs: z
    .object({ exact, total: count.describe("Installs of the period seen before it"), days, weeks })
    .describe("Installs seen that day (week, month) and seen before it"),
  retention: z
    .object({
      exact,
      cohorts: z.array(
        z.object({
          week: z.iso.date().describe("The cohort: installs first seen in this ISO week (its Monday), of the period"),
          first_version: z
            .string()
            .describe("The app version each was first seen with (the lowest, by version order, of its first day's)"),
          new_installs: count,
          week_1: retained.describe("Share seen again in the following week; null until it is over"),
          week_4: retained.describe("Share seen again in the 4th week after; null until it is over"),
        }),
      ),
    })
    .describe("Week-1 and week-4 retention of each week's new installs, by first version"),
};

type Shape = typeof installCohortsShape;
export type InstallCohorts = { [K in keyof Shape]: z.output<Shape[K]> };

/**
 * New and returning installs of the days from `from` to `to`, and the retention of each week's new
 * installs, from the days' sets of installs alone (hashes, never ids). Every day before `from` among
 * `tallies` is "before": an install seen there is returning. A day's new installs are |S ∪ B| − |B|
 * (B every install seen before it), exact while the sets are; a week's are the sum of its days'
 * (a first day is one day). An install's first version is the lowest it ran on its first day: it is
 * taken from the day's versions in version order, each less those of lower versions.
 */
export function installCohorts(
  tallies: readonly { day: string; tally: EventTally }[],
  from: string,
  to: string,
  grain: Grain,
): InstallCohorts {
  const sizes = new Sizes();
  const earlier = tallies.filter((d) => d.day < from);
  const byDay = new Map(tallies.filter((d) => d.day >= from && d.day <= to).map((d) => [d.day, d.tally.installs]));
  const tallyOf = new Map(tallies.map((d) => [d.day, d.tally]));
  const weekRows = groupDays(from, to, "week");
  const unionOf = (list: readonly string[]) => {
    const all = new InstallSet();
    for (const day of list) all.merge(byDay.get(day) ?? new InstallSet());
    return all;
  };
  // A later week's installs, once that week is over by `to` (its days all in the period: it follows a cohort's).
  const weekSets = new Map(
    weekRows.filter(({ start }) => addDays(start, 6) <= to).map(({ start, days }) => [start, unionOf(days)]),
  );
  const cohorts = new Map<string, { week: string; first_version: string; new_installs: number; kept: number[] }>();
  const fresh = new Map<string, number>();
  let seen = new InstallSet();
  for (const { tally } of earlier) seen.merge(tally.installs);
  for (const day of daysFrom(from, to)) {
    const known = sizes.size(seen);
    const withDay = union(seen, byDay.get(day));
    fresh.set(day, clamp(sizes.size(withDay) - known, Infinity));
    const week = groupDays(day, day, "week")[0]!.start;
    // L, the installs seen before the day, then with each lower version's of the day, and L ∪ X for each
    // later week X: grown in place by each version's set (a few hashes), their sizes carried along.
    const lower = seen.copy();
    let lowerSize = known;
    const laters = RETENTION_WEEKS.map((after) => {
      const later = weekSets.get(addDays(week, 7 * after));
      if (!later) return undefined;
      const set = union(lower, later);
      return { set, size: sizes.size(set) };
    });
    const versions = (tallyOf.get(day)?.versionFigures() ?? []).sort((a, b) =>
      versionOrder(a.app_version, b.app_version),
    );
    for (const { app_version, installs: ran } of versions) {
      const key = `${week}\n${app_version}`;
      const cohort = cohorts.get(key) ?? { week, first_version: app_version, new_installs: 0, kept: [0, 0] };
      lower.merge(ran);
      const withSize = sizes.size(lower);
      const first = clamp(withSize - lowerSize, Infinity);
      cohort.new_installs += first;
      // The cohort V ∖ L seen again in week X: |V ∖ L| − |V ∖ (L ∪ X)| = |L∪V| − |L| − (|L∪X∪V| − |L∪X|).
      laters.forEach((later, i) => {
        if (!later) return;
        later.set.merge(ran);
        const size = sizes.size(later.set);
        cohort.kept[i]! += clamp(first - (size - later.size), first);
        later.size = size;
      });
      cohorts.set(key, cohort);
      lowerSize = withSize;
    }
    seen = withDay;
  }
  const newOf = (list: readonly string[]) => list.reduce((sum, day) => sum + fresh.get(day)!, 0);
  const returning = (list: readonly string[]) => clamp(sizes.size(unionOf(list)) - newOf(list), Infinity);
  const period = daysFrom(from, to);
  const grainRows = groupDays(from, to, grain);
  const since = earlier.map((d) => d.day).sort()[0] ?? null;
  const rows = [...cohorts.values()]
    .filter((c) => c.new_installs > 0)
    .sort((a, b) => (a.week < b.week ? -1 : a.week > b.week ? 1 : versionOrder(a.first_version, b.first_version)))
    .map(({ week, first_version, new_installs, kept }) => {
      const [week_1, week_4] = RETENTION_WEEKS.map((after, i) =>
        weekSets.has(addDays(week, 7 * after)) ? round(kept[i]! / new_installs) : null,
      );
      return { week, first_version, new_installs, week_1: week_1!, week_4: week_4! };
    });
  return {
    new_installs: {
      exact: sizes.exact,
      since,
      total: newOf(period),
      days: grainRows.map(({ start, days }) => ({ day: start, installs: newOf(days) })),
      weeks: weekRows.map(({ start, days }) => ({ week: start, installs: newOf(days) })),
    },
    returning_installs: {
      exact: sizes.exact,
      total: returning(period),
      days: grainRows.map(({ start, days }) => ({ day: start, installs: returning(days) })),
      weeks: weekRows.map(({ start, days }) => ({ week: start, installs: returning(days) })),
    },
    retention: { exact: sizes.exact, cohorts: rows },
  };
}

/** Sizes of sets, remembering whether every one was exact. */
class Sizes {
  exact = true;

  size(set: InstallSet): number {
    if (!set.exact) this.exact = false;
    return set.estimate();
  }
}

/** A new set of the installs of both; `b` may be none. */
function union(a: InstallSet, b: InstallSet | undefined): InstallSet {
  const both = a.copy();
  if (b) both.merge(b);
  return both;
}

/** A difference of sizes within 0 to `most` (two estimates may differ the other way), whole. */
function clamp(value: number, most: number): number {
  return Math.max(0, Math.min(most, Math.round(value)));
}

function round(rate: number): number {
  const factor = 10 ** RATE_DECIMALS;
  return Math.round(rate * factor) / factor;
}
