import { addDays } from "../day.ts";
import type { EventTally } from "../tally/event-tally.ts";
import type { ReadFrom } from "../tally/tally-days.ts";
import { InstallSet } from "../tally/install-set.ts";
import { countrySection } from "./country-section.ts";
import { duration } from "./duration.ts";
import { errorSection } from "./error-section.ts";
import { retentionTable } from "./cohorts/retention-table.ts";
import type { DayTally, PeriodReport } from "./period-report.ts";
import type { ChartSpec } from "./charts/render-chart.ts";
import { tableCell as cell, tableRow as row, wholeCount as whole } from "./table-row.ts";

const WEEK_DAYS = 7;
/** The standard error of this format's sketches (2^16 registers, 0.41%); a day of format 2's is larger. */
const SKETCH_ERROR = 0.0041;
/** Marks the README that this service writes, so that it never writes over one it did not. */
export const DASHBOARD_MARKER = "<!-- telemetry-dashboard: generated hourly; edits are overwritten -->";
export const MODEL_REGISTRY_FILE = "model-registry.json";
/** Each way a day's figures are read, as the README's first line words it. */
const SOURCES: readonly [ReadFrom, string][] = [
  ["rollup", "the daily rollups in `rollups/`"],
  ["files", "the event files"],
  ["continued", "rollups continued with their files' new lines"],
];
/** The README's sentence that dates it: `Updated <ISO time> from …` (the rollups, or the files a local run read). */
const UPDATED = /^The last .* Updated (\S+) from /m;

/** What the service knows of its own ingest, beside the files: the flusher's shared state, when there is one. */
export interface IngestStatus {
  dropped: Record<string, number>;
  quarantined: number;
  lastFlush: { at: string; events: number; error: string | null } | null;
  /** When a flush last stored events: an idle flush stores none. */
  lastStoredAt: string | null;
  tokenExpiresAt: string | null;
}

/** A day's tally and how it was read (see TalliedDays); without `read`, from its rollup, as the hourly job reads. */
export type ReadDay = DayTally & { read?: ReadFrom };

/** What the README shows: the period and the one before it, each day's tally, and the charts beside it. */
export interface DashboardFigures {
  days: readonly ReadDay[];
  byDay: Map<string, EventTally>;
  current: PeriodReport;
  previous: PeriodReport;
  /** The period's days, oldest first, ending `today`; `previousEnd` is the day before them. */
  periodDays: readonly string[];
  today: string;
  previousEnd: string;
  updatedAt: string;
  status: IngestStatus | undefined;
  charts: readonly [name: string, spec: ChartSpec][];
  /** `today` is the day the dashboard is rendered on, not over yet. */
  partial: boolean;
}

/** When the service last rendered `readme` (an ISO time); undefined when it is not a dashboard the service wrote. */
export function dashboardUpdatedAt(readme: string): string | undefined {
  if (!readme.startsWith(DASHBOARD_MARKER)) return undefined;
  const at = UPDATED.exec(readme)?.[1];
  return at !== undefined && !Number.isNaN(Date.parse(at)) ? at : undefined;
}

/**
 * The dashboard's README.md, which GitHub renders. `linkBase` is the path from where the README is
 * shown to the dashboard's folder ("" beside it, "dashboard/" from the root).
 */
export function dashboardReadme(figures: DashboardFigures, linkBase: string): string {
  const { days, byDay, current, previous, periodDays, today, previousEnd, updatedAt, status, charts } = figures;
  const length = periodDays.length;
  return [
    DASHBOARD_MARKER,
    "# Telemetry dashboard",
    "",
    `The last ${length} days (${periodDays[0]} to ${today}, UTC${figures.partial ? ", today so far" : ""}) against the ${length} before. ` +
      `Updated ${updatedAt} from ${sourceOf(days)}; installs are exact up to 10,000; above, estimated with 0.41% standard error (within 1% about 98 times in 100)${olderEstimates(days)}.`,
    "",
    ...summaryTable(current, previous, days, today, previousEnd),
    "",
    "Events are sampling-weighted: an event sent with `metadata.sampling_rate` r counts 1/r, so there can be more of them than lines stored (see the ingest below).",
    "",
    ...charts.map(([name, spec]) => `![${spec.title}](${linkBase}${name})`),
    "",
    ...retentionTable(current),
    "",
    ...errorSection(current, previous),
    "",
    ...countrySection(current),
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
}

function summaryTable(
  current: PeriodReport,
  previous: PeriodReport,
  days: readonly DayTally[],
  today: string,
  previousEnd: string,
): string[] {
  // From the first day with data: a deployment's first days are not averaged with the days before it.
  const average = (report: PeriodReport) => {
    const since = report.days.slice(report.days.findIndex((d) => d.received > 0));
    return since.reduce((sum, d) => sum + d.installs, 0) / since.length;
  };
  const weekly = (end: string) => unionOf(days, addDays(end, -(WEEK_DAYS - 1)), end).estimate();
  const figures = (report: PeriodReport, end: string): (number | null)[] =>
    // A period without data has no figures: nothing, in every row alike, not zeros beside a dash.
    report.days.some((d) => d.received > 0)
      ? [
          average(report),
          weekly(end),
          report.totals.installs,
          report.totals.launches,
          report.totals.sessions,
          report.totals.crash_free_sessions,
          report.totals.events,
        ]
      : [null, null, null, null, null, null, null];
  const [now, before] = [figures(current, today), figures(previous, previousEnd)];
  const rows: [string, (n: number) => string][] = [
    ["Active installs, daily (average since the first day with data)", whole],
    ["Active installs, weekly (the last 7 days of each)", whole],
    ["Active installs, monthly (30 days)", whole],
    ["Launches", whole],
    ["Sessions", whole],
    ["Crash-free sessions", percent],
    ["Events (sampling-weighted)", whole],
  ];
  return [
    "| | last 30 days | the 30 days before | change |",
    "|---|---:|---:|---:|",
    ...rows
      .map(([label, format], i) => [label, now[i]!, before[i]!, format] as const)
      .map(([label, now, before, format]) =>
        row([
          label,
          now === null ? "—" : format(now),
          before === null ? "—" : format(before),
          change(now, before, format === percent),
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
    "Percentiles from DDSketch sketches (1% relative accuracy), merged day by day.",
    "",
    "| event | field | count | p50 | p95 | p99 |",
    "|---|---|---:|---:|---:|---:|",
    ...current.performance.map((p) =>
      row([p.event_name, p.field, whole(p.count), duration(p.p50), duration(p.p95), duration(p.p99)]),
    ),
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
    "| day | lines stored | parts | size | malformed lines | test-client lines |",
    "|---|---:|---:|---:|---:|---:|",
    ...recent.map((day) => {
      const ingest = byDay.get(day)?.ingest;
      return row([
        day,
        whole(ingest?.lines ?? 0),
        whole(ingest?.parts ?? 0),
        size(ingest?.bytes ?? 0),
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
    `- Events last stored: ${status.lastStoredAt ?? "none since the service's state began"}`,
    `- Events answered and not stored (dropped client types): ${dropped.length ? dropped.map(([type, n]) => `${cell(type)} ${n}`).join(", ") : "none"}`,
    `- Events set aside in the spool's quarantine: ${status.quarantined}`,
    `- Token expires: ${status.tokenExpiresAt ?? "never, or not told"}`,
  ];
}

/** A day read from a rollup of format 2 holds a sketch of fewer registers than this format's: its installs, and a period's that includes it, are estimates. */
function olderEstimates(days: readonly DayTally[]): string {
  const older = days.filter((d) => d.tally.installs.standardError > SKETCH_ERROR).length;
  if (older === 0) return "";
  return `, and estimated (0.8% standard error, 2.3% by version, OS, event, error group or model) on the ${older} ${older === 1 ? "day" : "days"} from rollups of format 2 and in a period including ${older === 1 ? "it" : "them"}`;
}

function unionOf(days: readonly DayTally[], from: string, to: string): InstallSet {
  const union = new InstallSet();
  for (const d of days) if (d.day >= from && d.day <= to) union.merge(d.tally.installs);
  return union;
}

function change(now: number | null, before: number | null, isRate: boolean): string {
  if (now === null) return "—";
  // Nothing at all before (no data): something now is new.
  if (before === null) return !isRate && now > 0 ? "new" : "—";
  if (isRate) return `${now >= before ? "+" : ""}${((now - before) * 100).toFixed(1)} pts`;
  // Nothing before: no change to speak of, or something new, never a percentage of nothing.
  if (before === 0) return now === 0 ? "—" : "new";
  const delta = (now / before - 1) * 100;
  return `${delta >= 0 ? "+" : ""}${delta.toFixed(0)}%`;
}

/** Bytes in the unit that shows them: a day of a few events is not "0.0 MB". */
function size(bytes: number): string {
  if (bytes < 1e3) return `${bytes} bytes`;
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} KB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

/** Where the figures came from, each way a day was read with its count of days: a local run may mix them. */
function sourceOf(days: readonly ReadDay[]): string {
  const counts = new Map<ReadFrom, number>();
  for (const { read = "rollup" } of days) counts.set(read, (counts.get(read) ?? 0) + 1);
  const ways = SOURCES.filter(([read]) => counts.has(read));
  if (ways.length <= 1) return (ways[0] ?? SOURCES[0]!)[1];
  const parts = ways.map(([read, source], i) => {
    const n = counts.get(read)!;
    return `${source} for ${n}${i === 0 ? ` ${n === 1 ? "day" : "days"}` : ""}`;
  });
  return `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}
