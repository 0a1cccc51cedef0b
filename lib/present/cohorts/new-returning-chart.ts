import type { TimeChartSpec } from "../charts/time-chart.ts";
import type { InstallCohorts } from "./install-cohorts.ts";

/**
 * The dashboard's chart of new and returning installs: a day's bar is its active installs, new ones
 * stacked on top; days before the first with data are left empty (`counted`: the days with data since).
 */
export function newReturningChart(
  { new_installs, returning_installs }: InstallCohorts,
  days: TimeChartSpec["days"],
  counted: readonly string[],
): [name: string, spec: TimeChartSpec] {
  const returning = new Map(returning_installs.days.map((d) => [d.day, d.installs]));
  return [
    "new-returning-installs.svg",
    {
      kind: "stacked-bars",
      title: "New and returning installs per day",
      yTitle: "installs",
      days,
      points: new_installs.days
        .filter((d) => counted.includes(d.day))
        .flatMap((d) => [
          { x: d.day, series: "new", y: d.installs },
          { x: d.day, series: "returning", y: returning.get(d.day)! },
        ]),
    },
  ];
}
