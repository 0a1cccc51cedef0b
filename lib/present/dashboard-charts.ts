import type { EventTally } from "../tally/event-tally.ts";
import type { PeriodReport } from "./period-report.ts";
import type { ChartSpec } from "./render-chart.ts";

/** Series a chart tells apart; the rest are summed as "other". */
const TOP_SERIES = 8;
const TOP_BARS = 15;
const TOP_ERROR_SERIES = 5;
const OTHER = "other";

/** The dashboard's charts, each with its file name: installs and launches, versions, systems, events, errors. */
export function dashboardCharts(
  current: PeriodReport,
  periodDays: readonly string[],
  byDay: Map<string, EventTally>,
): [name: string, spec: ChartSpec][] {
  return [
    [
      "active-installs.svg",
      {
        kind: "lines",
        title: "Daily active installs and launches",
        yTitle: "per day",
        points: current.days.flatMap((d) => [
          { x: d.day, series: "active installs", y: d.installs },
          { x: d.day, series: "launches", y: d.launches },
        ]),
      },
    ],
    [
      "versions.svg",
      {
        kind: "stacked-area",
        title: "Version adoption: active installs by app version",
        yTitle: "installs",
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
    [
      "events.svg",
      {
        kind: "bars",
        title: "Top events in the last 30 days",
        xTitle: "events (sampling-weighted)",
        bars: current.events.slice(0, TOP_BARS).map((e) => ({ label: e.event_name, value: e.count })),
      },
    ],
    [
      "errors.svg",
      {
        kind: "lines",
        title: "Top error groups over time",
        yTitle: "occurrences",
        points: errorSeries(periodDays, byDay, current),
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
  const labels = new Map(top.map((e, i) => [e.fingerprint, `${i + 1}. ${e.exception_type}`]));
  return periodDays.flatMap((day) => {
    const errors = byDay.get(day)?.errorFigures() ?? [];
    return top.map((e) => ({
      x: day,
      series: labels.get(e.fingerprint)!,
      y: Math.round(errors.find((f) => f.fingerprint === e.fingerprint)?.estimated ?? 0),
    }));
  });
}
