import { DAY_MS } from "../clock.ts";
import { EventTally } from "../tally/event-tally.ts";
import { HyperLogLog, INSTALLS_PRECISION } from "../tally/hyper-log-log.ts";
import { daysFrom, periodReport, type DayTally, type PeriodReport } from "./period-report.ts";
import { renderChart, type ChartSpec } from "./render-chart.ts";

/** The dashboard compares the last 30 days (today included) with the 30 before. */
export const PERIOD_DAYS = 30;
const WEEK_DAYS = 7;
/** Series a chart tells apart; the rest are summed as "other". */
const TOP_SERIES = 8;
const TOP_BARS = 15;
const TOP_ERRORS = 15;
const TOP_ERROR_SERIES = 5;
const CELL_CHARS = 100;
const OTHER = "other";
/** Marks the README that this service writes, so that it never writes over one it did not. */
export const DASHBOARD_MARKER = "<!-- telemetry-dashboard: generated hourly; edits are overwritten -->";
const MODEL_REGISTRY_FILE = "model-registry.json";

/** What the service knows of its own ingest, beside the files: the flusher's shared state, when there is one. */
export interface IngestStatus {
  dropped: Record<string, number>;
  quarantined: number;
  lastFlush: { at: string; events: number; error: string | null } | null;
  tokenExpiresAt: string | null;
}

export interface DashboardFile {
  /** The file's name in the dashboard's folder. */
  name: string;
  content: string;
}

/**
 * The dashboard, from the daily rollups only (they outlive the raw files): a README.md that GitHub
 * renders, the SVG charts it shows beside it (GitHub strips inline SVG but shows committed files),
 * and the model registry as JSON for the registry's maintainers to merge. `linkBase` is the path
 * from where the README is shown to the dashboard's folder ("" beside it, "dashboard/" from the root).
 */
export async function renderDashboard(
  days: readonly DayTally[],
  {
    today,
    updatedAt,
    status,
    linkBase = "",
  }: { today: string; updatedAt: string; status?: IngestStatus; linkBase?: string },
): Promise<DashboardFile[]> {
  const periodStart = shiftDay(today, -(PERIOD_DAYS - 1));
  const previousEnd = shiftDay(periodStart, -1);
  const previousStart = shiftDay(previousEnd, -(PERIOD_DAYS - 1));
  const current = periodReport(days, periodStart, today);
  const previous = periodReport(days, previousStart, previousEnd);
  const byDay = new Map(days.map((d) => [d.day, d.tally]));
  const periodDays = daysFrom(periodStart, today);

  const charts: [name: string, spec: ChartSpec][] = [
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
  const svgs = await Promise.all(charts.map(async ([name, spec]) => ({ name, content: await renderChart(spec) })));
  const registry = `${JSON.stringify({ updated_at: updatedAt, from: periodStart, to: today, models: current.models }, null, 2)}\n`;
  const readme = [
    DASHBOARD_MARKER,
    "# Telemetry dashboard",
    "",
    `The last ${PERIOD_DAYS} days (${periodStart} to ${today}, UTC, today so far) against the ${PERIOD_DAYS} before. ` +
      `Updated ${updatedAt} from the daily rollups in \`rollups/\`; installs are estimated with HyperLogLog sketches (about 1% off).`,
    "",
    ...summaryTable(current, previous, days, today, previousEnd),
    "",
    ...charts.map(([name, spec]) => `![${"title" in spec ? spec.title : name}](${linkBase}${name})`),
    "",
    ...errorTable(current, previous),
    "",
    ...modelTable(current, `${linkBase}${MODEL_REGISTRY_FILE}`),
    "",
    ...providerTable(current),
    "",
    ...performanceTable(current),
    "",
    ...ingestSection(periodDays, byDay, status),
    "",
  ].join("\n");
  return [{ name: "README.md", content: readme }, ...svgs, { name: MODEL_REGISTRY_FILE, content: registry }];
}

function summaryTable(
  current: PeriodReport,
  previous: PeriodReport,
  days: readonly DayTally[],
  today: string,
  previousEnd: string,
): string[] {
  const average = (report: PeriodReport) => report.days.reduce((sum, d) => sum + d.installs, 0) / report.days.length;
  const weekly = (end: string) => unionOf(days, shiftDay(end, -(WEEK_DAYS - 1)), end).estimate();
  const rows: [string, number | null, number | null, (n: number) => string][] = [
    ["Active installs, daily (average)", average(current), average(previous), whole],
    ["Active installs, weekly (last 7 days)", weekly(today), weekly(previousEnd), whole],
    ["Active installs, monthly (30 days)", current.totals.installs, previous.totals.installs, whole],
    ["Launches", current.totals.launches, previous.totals.launches, whole],
    ["Sessions", current.totals.sessions, previous.totals.sessions, whole],
    ["Crash-free sessions", current.totals.crash_free_sessions, previous.totals.crash_free_sessions, percent],
    ["Events", current.totals.events, previous.totals.events, whole],
  ];
  return [
    "| | last 30 days | previous 30 days | change |",
    "|---|---:|---:|---:|",
    ...rows.map(([label, now, before, format]) =>
      row([
        label,
        now === null ? "—" : format(now),
        before === null ? "—" : format(before),
        change(now, before, format === percent),
      ]),
    ),
  ];
}

function errorTable(current: PeriodReport, previous: PeriodReport): string[] {
  const known = new Set(previous.errors.map((e) => e.fingerprint));
  const top = current.errors.slice(0, TOP_ERRORS);
  if (top.length === 0) return ["## Error groups", "", "No errors in the last 30 days."];
  return [
    "## Error groups",
    "",
    "Grouped by the client's `error_hash`, else by exception type, innermost in-app frame and message with numbers, paths and quoted values masked. *new*: not seen in the 30 days before.",
    "",
    "| | type | message | count | installs | versions | first seen | last seen |",
    "|---|---|---|---:|---:|---|---|---|",
    ...top.map((e) =>
      row([
        known.has(e.fingerprint) ? "" : "new",
        e.exception_type,
        e.message,
        whole(e.count),
        whole(e.installs),
        e.versions.join(", "),
        e.first_seen.slice(0, 16).replace("T", " "),
        e.last_seen.slice(0, 16).replace("T", " "),
      ]),
    ),
  ];
}

function modelTable(current: PeriodReport, registryLink: string): string[] {
  if (current.models.length === 0) return ["## Model registry", "", "No model registrations in the last 30 days."];
  return [
    "## Model registry",
    "",
    `From \`model_registration\` events; also as [${MODEL_REGISTRY_FILE}](${registryLink}) for the registry's maintainers.`,
    "",
    "| model | source | dimension | registrations | installs | load success | inference success | modalities | devices |",
    "|---|---|---:|---:|---:|---:|---:|---|---|",
    ...current.models.map((m) =>
      row([
        m.model_name,
        m.model_source,
        m.embedding_dimension === null ? "—" : String(m.embedding_dimension),
        whole(m.registrations),
        whole(m.installs),
        m.load_success_rate === null ? "—" : percent(m.load_success_rate),
        m.inference_success_rate === null ? "—" : percent(m.inference_success_rate),
        Object.keys(m.modalities).join(", "),
        Object.keys(m.device_types).join(", "),
      ]),
    ),
  ];
}

function providerTable(current: PeriodReport): string[] {
  if (current.db_providers.length === 0)
    return ["## Database providers", "", "No `db.connection_result` events in the last 30 days."];
  return [
    "## Database providers",
    "",
    "| provider | connections | success rate |",
    "|---|---:|---:|",
    ...current.db_providers.map((p) =>
      row([p.db_provider, whole(p.connections), p.success_rate === null ? "—" : percent(p.success_rate)]),
    ),
  ];
}

function performanceTable(current: PeriodReport): string[] {
  if (current.performance.length === 0) return ["## Performance", "", "No timed events in the last 30 days."];
  return [
    "## Performance",
    "",
    "Percentiles from DDSketch sketches (1% relative accuracy), merged from the daily rollups.",
    "",
    "| event | field | count | p50 | p95 | p99 |",
    "|---|---|---:|---:|---:|---:|",
    ...current.performance.map((p) => row([p.event_name, p.field, whole(p.count), ms(p.p50), ms(p.p95), ms(p.p99)])),
  ];
}

function ingestSection(
  periodDays: readonly string[],
  byDay: Map<string, EventTally>,
  status: IngestStatus | undefined,
): string[] {
  const recent = periodDays.slice(-WEEK_DAYS).reverse();
  const lines = [
    "## Ingest",
    "",
    "| day | lines stored | parts | MB | malformed lines | test-client lines |",
    "|---|---:|---:|---:|---:|---:|",
    ...recent.map((day) => {
      const ingest = byDay.get(day)?.ingest;
      return row([
        day,
        whole(ingest?.lines ?? 0),
        whole(ingest?.parts ?? 0),
        ((ingest?.bytes ?? 0) / 1e6).toFixed(1),
        whole(ingest?.malformed ?? 0),
        whole(ingest?.test_events ?? 0),
      ]);
    }),
    "",
  ];
  if (!status)
    return [
      ...lines,
      "The service's own state (last flush, dropped and quarantined events, token expiry) is shown when the service publishes this dashboard.",
    ];
  const dropped = Object.entries(status.dropped);
  return [
    ...lines,
    `- Last flush: ${status.lastFlush ? `${status.lastFlush.at}, ${status.lastFlush.events} events${status.lastFlush.error ? `, error: ${cell(status.lastFlush.error)}` : ""}` : "none yet"}`,
    `- Events answered and not stored (dropped client types): ${dropped.length ? dropped.map(([type, n]) => `${cell(type)} ${n}`).join(", ") : "none"}`,
    `- Events set aside in the spool's quarantine: ${status.quarantined}`,
    `- Token expires: ${status.tokenExpiresAt ?? "never, or not told"}`,
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

function unionOf(days: readonly DayTally[], from: string, to: string): HyperLogLog {
  const union = new HyperLogLog(INSTALLS_PRECISION);
  for (const d of days) if (d.day >= from && d.day <= to) union.merge(d.tally.installs);
  return union;
}

function change(now: number | null, before: number | null, isRate: boolean): string {
  if (now === null || before === null) return "—";
  if (isRate) return `${now >= before ? "+" : ""}${((now - before) * 100).toFixed(1)} pts`;
  if (before === 0) return now === 0 ? "0%" : "new";
  const delta = (now / before - 1) * 100;
  return `${delta >= 0 ? "+" : ""}${delta.toFixed(0)}%`;
}

function row(cells: string[]): string {
  return `| ${cells.map(cell).join(" | ")} |`;
}

/** Text from clients made safe in a table cell: one line, no markup of its own, cut short. */
function cell(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  const short = line.length > CELL_CHARS ? `${line.slice(0, CELL_CHARS - 1)}…` : line;
  return short.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

function whole(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function ms(value: number): string {
  return `${value.toLocaleString("en-US", { maximumFractionDigits: 1 })} ms`;
}

export function shiftDay(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}
