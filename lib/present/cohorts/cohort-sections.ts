import type { InstallCohorts } from "./install-cohorts.ts";

/**
 * The report's tables of new and returning installs and of retention (see formatReport): the totals
 * with how far back "new" looks and whether they are exact (the same for all three keys), then by
 * day, by ISO week, and each week's cohort by first version.
 */
export function cohortSections({ new_installs, returning_installs, retention }: InstallCohorts) {
  const byDay = new_installs.days.map(({ day, installs }, i) => ({
    day,
    new_installs: installs,
    returning_installs: returning_installs.days[i]!.installs,
  }));
  const byWeek = new_installs.weeks.map(({ week, installs }, i) => ({
    week,
    new_installs: installs,
    returning_installs: returning_installs.weeks[i]!.installs,
  }));
  return [
    {
      title: "new_and_returning_installs",
      rows: [
        {
          since: new_installs.since ?? "",
          new_installs: new_installs.total,
          returning_installs: returning_installs.total,
          exact: new_installs.exact && returning_installs.exact && retention.exact,
        },
      ],
      keys: [],
    },
    { title: "new_and_returning_by_day", rows: byDay },
    { title: "new_and_returning_by_week", rows: byWeek },
    { title: "retention", rows: retention.cohorts, keys: ["week", "first_version"] },
  ];
}
