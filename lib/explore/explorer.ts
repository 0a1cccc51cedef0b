import { z } from "zod";
import { daysFrom } from "../day.ts";
import { dashboardCharts } from "../present/charts/dashboard-charts.ts";
import { vegaLiteOf } from "../present/charts/render-chart.ts";
import { periodReport, periodReportSchema, type DayTally, type PeriodReport } from "../present/period-report.ts";
import { EventTally } from "../tally/event-tally.ts";
import { tallyLines } from "../tally/tally-lines.ts";
import { ExploreError } from "./explore-error.ts";
import type { ExploreQuery } from "./explore-query.ts";
import { errorSamples, type ErrorSamples } from "./error-samples.ts";
import { metadataBreakdown, type MetadataBreakdown } from "./metadata-breakdown.ts";
import { matchingOs } from "./matching-os.ts";

/** The lines of the days from `from` to `to` that pass every filter: the one question asked of the raw files. */
export interface LineQuery {
  from: string;
  to: string;
  version?: string;
  /** The OS strings clients sent that the OS filter stands for (matchingOs). */
  osNames?: string[];
  client_type?: string;
  event?: string;
  /** Only lines that may report an error: a superset, which fingerprintError narrows. */
  errorsOnly?: boolean;
}

/** The raw files, read line by line (a local folder's, or GitHub's downloaded). */
export interface LineSource {
  /** The distinct `metadata.os` strings of the period's lines. */
  osNames(from: string, to: string): Promise<string[]>;
  /** The lines (each a stored event's JSON) by day, oldest day first. */
  lines(query: LineQuery): Promise<{ day: string; lines: string[] }[]>;
}

/**
 * The period's days as the report reads them (rollups where current, else the files), and the installs of the
 * kept days before it, which new and returning installs are told against.
 */
export type PeriodReader = (
  from: string,
  to: string,
) => Promise<{ days: readonly DayTally[]; before: readonly DayTally[] }>;

/** A period read whole, unfiltered: its days, the days before it, and its report. */
interface WholePeriod {
  from: string;
  to: string;
  days: readonly DayTally[];
  before: readonly DayTally[];
  report: PeriodReport;
}

export const figuresAnswerSchema = z.object({
  report: periodReportSchema,
  filtered: z.boolean().describe("The figures count only the lines that pass the filters, read from the raw files"),
  charts: z.array(z.object({ name: z.string(), spec: z.unknown().describe("A Vega-Lite spec") })),
  options: z
    .object({
      version: z.array(z.string()),
      os: z.array(z.string()),
      client_type: z.array(z.string()),
      event: z.array(z.string()),
    })
    .describe("Each filter's values present in the period, unfiltered"),
});

export type FiguresAnswer = z.output<typeof figuresAnswerSchema>;

/**
 * The interactive dashboard's questions: a period's report (the same figures as `telemetry report`) with
 * its charts (the README dashboard's specs), filtered by counting only the matching raw lines with the same
 * tally; an error group's occurrences; an event's breakdown by a metadata key.
 */
export class Explorer {
  /** The last period read whole: a filtered view takes its filters' choices, and the installs before it, from it. */
  private lastWhole: WholePeriod | undefined;

  constructor(
    private readonly read: PeriodReader,
    private readonly lines: LineSource,
    private readonly today: () => string,
  ) {}

  async figures(query: ExploreQuery): Promise<FiguresAnswer> {
    const { from, to } = query;
    const filtered = Object.keys(query.filter).length > 0;
    // Unfiltered, the period is read again (the data may have grown); a filter reuses the read of its period.
    const whole =
      filtered && this.lastWhole?.from === from && this.lastWhole.to === to
        ? this.lastWhole
        : await this.readWhole(from, to);
    const days = filtered ? await this.filteredDays(query) : whole.days;
    // A filtered view's new installs are new to the app, not to the filter: told against every install before.
    const report = filtered ? periodReport([...whole.before, ...days], from, to) : whole.report;
    const byDay = new Map(days.map((d) => [d.day, d.tally]));
    const charts = dashboardCharts(report, daysFrom(from, to), byDay, to === this.today()).map(([name, spec]) => ({
      name: name.replace(/\.svg$/, ""),
      // The README's rankings cover its last 30 days; here, the period picked.
      spec: vegaLiteOf({ ...spec, title: spec.title.replace(/in the last 30 days$/, `from ${from} to ${to}`) }),
    }));
    return { report, filtered, charts, options: optionsOf(whole.report) };
  }

  private async readWhole(from: string, to: string): Promise<WholePeriod> {
    const { days, before } = await this.read(from, to);
    this.lastWhole = { from, to, days, before, report: periodReport([...before, ...days], from, to) };
    return this.lastWhole;
  }

  async errorGroup(query: ExploreQuery): Promise<ErrorSamples> {
    if (!query.fingerprint) throw new ExploreError(400, "bad parameter fingerprint: an error group's is needed");
    const days = await this.lines.lines({ ...(await this.lineQuery(query)), errorsOnly: true });
    return errorSamples(
      days.flatMap((d) => d.lines),
      { ...query, fingerprint: query.fingerprint },
    );
  }

  async breakdown(query: ExploreQuery): Promise<MetadataBreakdown> {
    if (!query.filter.event) throw new ExploreError(400, "bad parameter event: the event to break down is needed");
    const days = await this.lines.lines(await this.lineQuery(query));
    return metadataBreakdown(
      days.flatMap((d) => d.lines),
      query.key,
    );
  }

  /** Each day's tally of the lines that pass the filters, counted by the tally every figure comes from. */
  private async filteredDays(query: ExploreQuery): Promise<DayTally[]> {
    const days = await this.lines.lines(await this.lineQuery(query));
    return days.map(({ day, lines }) => {
      const tally = new EventTally();
      tallyLines(
        tally,
        Buffer.from(lines.map((line) => `${line}\n`).join("")),
        { path: day, firstLine: 1 },
        { final: true },
      );
      return { day, tally };
    });
  }

  private async lineQuery({ from, to, filter }: ExploreQuery): Promise<LineQuery> {
    const { os, ...rest } = filter;
    if (!os) return { from, to, ...rest };
    return { from, to, ...rest, osNames: matchingOs(await this.lines.osNames(from, to), os) };
  }
}

/** What each filter can pick: the values the period holds. */
function optionsOf(report: PeriodReport): FiguresAnswer["options"] {
  return {
    version: report.versions.map((v) => v.app_version),
    os: report.os.flatMap((os) => [os.os, ...os.versions.flatMap((v) => (v.version ? [`${os.os} ${v.version}`] : []))]),
    client_type: report.client_types.map((c) => c.client_type),
    event: report.events.map((e) => e.event_name),
  };
}
