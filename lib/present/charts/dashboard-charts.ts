import type { EventTally } from "../../tally/event-tally.ts";
import { isErrorEventName } from "../../tally/fingerprint-error.ts";
import { newReturningChart } from "../cohorts/new-returning-chart.ts";
import { countryChart } from "../country-section.ts";
import type { PeriodReport } from "../period-report.ts";
import type { ChartSpec } from "./render-chart.ts";
import type { TimeChartSpec } from "./time-chart.ts";

/** Series a chart tells apart; the rest are summed as "other". */
const TOP_SERIES = 8;
const TOP_BARS = 15;
const TOP_ERROR_SERIES = 5;
/** An error group's name in the legend: its number in the README's table, type and message, this long at most. */
const ERROR_LABEL_CHARS = 36;
const OTHER = "other";

/**
 * The dashboard's charts, each with its file name: installs and launches, versions, systems, events,
 * errors. The time charts span the period's days; `partial`: the last of them is not over yet.
 */
export function dashboardCharts(
  current: PeriodReport,
  periodDays: readonly string[],
  byDay: Map<string, EventTally>,
  partial: boolean,
): [name: string, spec: ChartSpec][] {
  const days: TimeChartSpec["days"] = { from: periodDays[0]!, to: periodDays.at(-1)!, partial };
  // Before the first day with data there was nothing to count: those days are left empty, not drawn as zeros.
  const first = [...byDay.keys()].sort()[0];
  const counted = periodDays.filter((day) => first !== undefined && day >= first);
  return [
    [
      "active-installs.svg",
      {
        kind: "lines",
        title: "Daily active installs and launches",
        yTitle: "per day",
        days,
        points: current.days
          .filter((d) => counted.includes(d.day))
          .flatMap((d) => [
            { x: d.day, series: "active installs", y: d.installs },
            { x: d.day, series: "launches", y: d.launches },
          ]),
      },
    ],
    newReturningChart(current, days, counted),
    [
      "versions.svg",
      {
        kind: "stacked-bars",
        title: "Version adoption: active installs by app version",
        yTitle: "installs",
        days,
        points: seriesByDay(periodDays, byDay, (tally) =>
          tally.versionFigures().map((v) => ({ series: v.app_version, value: v.installs.estimate() })),
        ),
      },
    ],
    [
      "operating-systems.svg",
      {
        kind: "bars",
        title: "Operating systems: installs in the last 30 days",
        xTitle: "installs",
        bars: current.os
          .flatMap((os) =>
            os.versions.map((v) => ({ label: v.version ? `${os.os} ${v.version}` : os.os, value: v.installs })),
          )
          .sort((a, b) => b.value - a.value)
          .slice(0, TOP_BARS),
      },
    ],
    countryChart(current),
    [
      "events.svg",
      {
        kind: "bars",
        title: "Top events in the last 30 days",
        subtitle: "Error events in red, each shown however few",
        xTitle: "events (sampling-weighted)",
        // Errors are what a maintainer looks for: ranking never hides one.
        bars: current.events
          .filter((e, i) => i < TOP_BARS || isErrorEventName(e.event_name))
          .map((e) => ({ label: e.event_name, value: e.count, highlight: isErrorEventName(e.event_name) })),
      },
    ],
    [
      "errors.svg",
      {
        kind: "lines",
        title: "Top error groups over time",
        yTitle: "occurrences",
        days,
        points: errorSeries(counted, byDay, current),
      },
    ],
  ];
}

/** A chart's points: each day's value of the top series (by their total), the rest summed as "other". */
function seriesByDay(
  periodDays: readonly string[],
  byDay: Map<string, EventTally>,
  valuesOf: (tally: EventTally) => { series: string; value: number }[],
): { x: string; series: string; y: number }[] {
  const perDay = periodDays.map((day) => ({ day, values: byDay.has(day) ? valuesOf(byDay.get(day)!) : [] }));
  const totals = new Map<string, number>();
  for (const { values } of perDay)
    for (const { series, value } of values) totals.set(series, (totals.get(series) ?? 0) + value);
  const top = new Set(
    [...totals]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP_SERIES)
      .map(([s]) => s),
  );
  return perDay.flatMap(({ day, values }) => {
    const points = new Map<string, number>();
    for (const { series, value } of values) {
      const name = top.has(series) ? series : OTHER;
      points.set(name, (points.get(name) ?? 0) + value);
    }
    return [...points].map(([series, y]) => ({ x: day, series, y }));
  });
}

function errorSeries(periodDays: readonly string[], byDay: Map<string, EventTally>, current: PeriodReport) {
  const top = current.errors.slice(0, TOP_ERROR_SERIES);
  const labels = new Map(top.map((e, i) => [e.fingerprint, errorLabel(i + 1, e)]));
  return periodDays.flatMap((day) => {
    const errors = byDay.get(day)?.errorFigures() ?? [];
    return top.map((e) => ({
      x: day,
      series: labels.get(e.fingerprint)!,
      y: Math.round(errors.find((f) => f.fingerprint === e.fingerprint)?.estimated ?? 0),
    }));
  });
}

/** "2. RuntimeError: lost the index", cut short: two groups of one type are told apart by their message too. */
function errorLabel(number: number, error: PeriodReport["errors"][number]): string {
  const label = `${number}. ${error.exception_type}${error.message ? `: ${error.message.replace(/\s+/g, " ")}` : ""}`;
  const chars = [...label];
  return chars.length <= ERROR_LABEL_CHARS
    ? label
    : `${chars
        .slice(0, ERROR_LABEL_CHARS - 1)
        .join("")
        .trimEnd()}…`;
}
