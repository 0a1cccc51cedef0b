import { tableRow as row, wholeCount as whole } from "../table-row.ts";
import type { InstallCohorts } from "./install-cohorts.ts";

/**
 * The dashboard's part on new and returning installs: the period's totals, and each week's new
 * installs by first version with the share seen again a week and four weeks on ("—": not over yet).
 * The dashboard reads its two periods: "new" is not seen in the 30 days before.
 */
export function retentionTable({ new_installs, returning_installs, retention }: InstallCohorts): string[] {
  const estimated = new_installs.exact ? "" : " (estimated: above 10,000 installs, see the README)";
  const lines = [
    "## New and returning installs",
    "",
    `In the last 30 days: ${whole(new_installs.total)} new installs (not seen in the 30 days before) and ${whole(returning_installs.total)} returning${estimated}. The chart above shows them by day; \`telemetry report\` looks back over every rollup kept.`,
    "",
  ];
  if (retention.cohorts.length === 0) return [...lines, "No new installs in the last 30 days."];
  const share = (rate: number | null) => (rate === null ? "—" : `${(rate * 100).toFixed(1)}%`);
  return [
    ...lines,
    "Retention: of each week's new installs (by the app version each was first seen with), the share seen again in the following week and in the 4th week after. A cohort's 4th week is over about 5 weeks after it began, so in these 30 days it is mostly still to come (—): `telemetry serve`'s 90 days, or `telemetry report` over 9 weeks, show it.",
    "",
    "| cohort week | first version | new installs | week 1 | week 4 |",
    "|---|---|---:|---:|---:|",
    ...retention.cohorts.map((c) =>
      row([c.week, c.first_version, whole(c.new_installs), share(c.week_1), share(c.week_4)]),
    ),
  ];
}
