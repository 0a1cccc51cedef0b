import type { Grain } from "../group-days.ts";
import type { InstallCohorts } from "./install-cohorts.ts";

/**
 * The report's tables of new and returning installs and of retention (see formatReport): the totals
 * with how far back "new" looks and whether they are exact (the same for all three keys), then by the
 * report's grain, by ISO week when that is days, and each week's cohort by first version. Over a year
 * (grain month) the tables would double the report's length, and the weeks and cohorts run to hundreds
 * of rows: the totals are shown, json holds the rest.
 */
export function cohortSections({
  grain,
  new_installs,
  returning_installs,
  retention,
}: InstallCohorts & { grain: Grain }) {
  const byGrain = new_installs.days.map(({ day, installs }, i) => ({
    [grain]: day,
    new_installs: installs,
    returning_installs: returning_installs.days[i]!.installs,
  }));
  const byWeek = new_installs.weeks.map(({ week, installs }, i) => ({
    week,
    new_installs: installs,
    returning_installs: returning_installs.weeks[i]!.installs,
  }));
  const totals = {
    since: new_installs.since ?? "",
    new_installs: new_installs.total,
    returning_installs: returning_installs.total,
    exact: new_installs.exact && returning_installs.exact && retention.exact,
  };
  const summary = { title: "new_and_returning_installs", rows: [totals], keys: [] };
  if (grain === "month") return [summary];
  return [
    summary,
    { title: `new_and_returning_by_${grain}`, rows: byGrain },
    ...(grain === "day" ? [{ title: "new_and_returning_by_week", rows: byWeek }] : []),
    { title: "retention", rows: retention.cohorts, keys: ["week", "first_version"] },
  ];
}
