import { z } from "zod";
import { EventTally } from "../tally/event-tally.ts";
import { versionOrder } from "../tally/figures/app-versions.ts";
import { InstallSet } from "../tally/install-set.ts";
import { installCohorts, installCohortsShape } from "./cohorts/install-cohorts.ts";
import { countryRows, countryRowsSchema } from "./country-rows.ts";
import { GRAINS, grainOf, groupDays, type Grain } from "./group-days.ts";

/** Percentiles are told to a tenth of a millisecond: the sketch's own accuracy is 1%. */
const PERCENTILE_DECIMALS = 1;
/** Rates to four decimals: 0.9987, a crash-free rate's usual precision. */
const RATE_DECIMALS = 4;
/** An estimate is shown whole: a sampled event stands for 1/r events, and half an event is noise. */
const estimate = z
  .number()
  .int()
  .nonnegative()
  .describe("Sampling-weighted estimate: an event with sampling_rate r counts 1/r");
const lines = z.number().int().nonnegative().describe("Lines seen in the files");
const installs = z
  .number()
  .int()
  .nonnegative()
  .describe(
    "Distinct installs: exact up to 10,000 (a set of their hashes); above, estimated with 0.41% standard error (HyperLogLog: within 1% about 98 times in 100); estimated for a period including a day read from a rollup of format 2 (0.8% standard error, 2.3% by version, OS, event, error group or model)",
  );
const rate = z
  .number()
  .min(0)
  .max(1)
  .nullable()
  .describe("0 to 1, rounded to 4 decimals; null when nothing was counted");
const counts = z.record(z.string(), z.number().int().nonnegative());

/**
 * The figures of a period, as `telemetry report --format json` prints them and the dashboard shows
 * them: the fields of the contract, which scripts may rely on, and more beside them.
 */
export const periodReportSchema = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    grain: z
      .enum(GRAINS)
      .describe("What a row of `days` is: a day, an ISO week or a calendar month (by default, by the period's length)"),
    totals: z.object({
      events: estimate,
      received: lines,
      installs,
      launches: estimate,
      sessions: estimate.describe("session.start events"),
      crashed_sessions: estimate.describe('session.end events with exit_reason "crash"'),
      crash_free_sessions: rate,
    }),
    days: z.array(
      z.object({
        day: z.iso
          .date()
          .describe(
            "The row's first day: the week's Monday, the month's first; it counts only days from `from` to `to`",
          ),
        events: estimate,
        received: lines,
        installs,
        launches: estimate,
        sessions: estimate,
      }),
    ),
    events: z.array(z.object({ event_name: z.string(), count: estimate, received: lines, installs })),
    versions: z.array(
      z.object({
        app_version: z.string(),
        installs,
        launches: estimate,
        events: estimate,
        sessions: estimate,
        crash_free_sessions: rate,
      }),
    ),
    os: z.array(
      z.object({
        os: z.string().describe("The family: Windows, macOS, Linux, other or unknown"),
        installs,
        versions: z.array(z.object({ version: z.string().nullable(), installs })),
      }),
    ),
    client_types: z.array(z.object({ client_type: z.string(), received: lines })),
    countries: countryRowsSchema,
    errors: z.array(
      z.object({
        fingerprint: z.string(),
        exception_type: z.string(),
        message: z.string(),
        traceback: z.string().nullable(),
        count: estimate,
        received: lines,
        installs,
        first_seen: z.iso.datetime({ precision: 3 }),
        last_seen: z.iso.datetime({ precision: 3 }),
        versions: z.array(z.string()),
        first_version: z
          .string()
          .nullable()
          .describe("The app version of the earliest occurrence (null: unknown, its first day is of rollup format 2)"),
      }),
    ),
    models: z.array(
      z.object({
        model_name: z.string(),
        model_source: z.string(),
        embedding_dimension: z.number().int().nullable().describe("The dimension most registrations reported"),
        registrations: estimate,
        received: lines,
        installs,
        load_success_rate: rate,
        inference_success_rate: rate,
        embedding_dimensions: counts,
        modalities: counts,
        normalization: counts,
        distance_metrics: counts,
        device_types: counts,
      }),
    ),
    db_providers: z.array(z.object({ db_provider: z.string(), connections: estimate, success_rate: rate })),
    performance: z.array(
      z.object({
        event_name: z.string(),
        field: z.enum(["duration_ms", "latency_ms"]),
        count: lines,
        p50: z.number(),
        p95: z.number(),
        p99: z.number(),
      }),
    ),
    ingest: z.object({
      lines: lines,
      bytes: z.number().int().nonnegative(),
      parts: z.number().int().nonnegative(),
      malformed: lines,
      test_events: lines,
    }),
    ...installCohortsShape,
  })
  .meta({ title: "Telemetry report" });

export type PeriodReport = z.output<typeof periodReportSchema>;

/** A day's tally, as a rollup gives it back or the day's files were read. */
export interface DayTally {
  day: string;
  tally: EventTally;
}

/**
 * The report of the days from `from` to `to` (inclusive), made by merging their tallies: every day
 * (or week, or month: `grain`) of the period is listed, an empty one with zeros.
 */
export function periodReport(
  days: readonly DayTally[],
  from: string,
  to: string,
  grain: Grain = grainOf(from, to),
): PeriodReport {
  const inPeriod = days.filter((d) => d.day >= from && d.day <= to).sort((a, b) => (a.day < b.day ? -1 : 1));
  const period = new EventTally();
  for (const { tally } of inPeriod) period.merge(tally);
  const byDay = new Map(inPeriod.map((d) => [d.day, d.tally]));
  const launchesOf = (tally: EventTally) => tally.versionFigures().reduce((sum, v) => sum + v.launches, 0);
  const osFamilies = new Map<string, { installs: InstallSet; versions: PeriodReport["os"][number]["versions"] }>();
  for (const os of period.osFigures()) {
    const family = osFamilies.get(os.family) ?? { installs: new InstallSet(), versions: [] };
    family.installs.merge(os.installs);
    family.versions.push({ version: os.version, installs: os.installs.estimate() });
    osFamilies.set(os.family, family);
  }
  return {
    from,
    to,
    grain,
    totals: {
      events: whole(period.estimated),
      received: period.received,
      installs: period.installs.estimate(),
      launches: whole(launchesOf(period)),
      sessions: whole(period.sessions.started),
      crashed_sessions: whole(period.sessions.crashed),
      crash_free_sessions: crashFree(period.sessions.started, period.sessions.crashed),
    },
    days: groupDays(from, to, grain).map(({ start, days: rowDays }) => {
      const tally = new EventTally();
      for (const day of rowDays) {
        const dayTally = byDay.get(day);
        if (dayTally) tally.merge(dayTally);
      }
      return {
        day: start,
        events: whole(tally.estimated),
        received: tally.received,
        installs: tally.installs.estimate(),
        launches: whole(launchesOf(tally)),
        sessions: whole(tally.sessions.started),
      };
    }),
    events: period.eventFigures().map((e) => ({
      event_name: e.event_name,
      count: whole(e.estimated),
      received: e.received,
      installs: e.installs.estimate(),
    })),
    versions: period
      .versionFigures()
      .map((v) => ({
        app_version: v.app_version,
        installs: v.installs.estimate(),
        launches: whole(v.launches),
        events: whole(v.estimated),
        sessions: whole(v.sessions),
        crash_free_sessions: crashFree(v.sessions, v.crashed_sessions),
      }))
      .sort((a, b) => versionOrder(b.app_version, a.app_version)),
    os: [...osFamilies]
      .map(([os, family]) => ({ os, installs: family.installs.estimate(), versions: family.versions }))
      .sort((a, b) => b.installs - a.installs || (a.os < b.os ? -1 : 1)),
    client_types: period.clientTypeFigures(),
    countries: countryRows(period),
    errors: period.errorFigures().map((e) => ({
      fingerprint: e.fingerprint,
      exception_type: e.exception_type,
      message: e.message,
      traceback: e.traceback,
      count: whole(e.estimated),
      received: e.received,
      installs: e.installs.estimate(),
      first_seen: e.first_seen,
      last_seen: e.last_seen,
      versions: e.versions,
      first_version: e.first_version,
    })),
    models: period.modelFigures().map((m) => ({
      model_name: m.model_name,
      model_source: m.model_source,
      embedding_dimension: mostCommon(m.embedding_dimensions),
      registrations: whole(m.registrations),
      received: m.received,
      installs: m.installs.estimate(),
      load_success_rate: share(m.load.success, m.load.failure),
      inference_success_rate: share(m.inference.success, m.inference.failure),
      embedding_dimensions: m.embedding_dimensions,
      modalities: m.modalities,
      normalization: m.normalization,
      distance_metrics: m.distance_metrics,
      device_types: m.device_types,
    })),
    db_providers: period.dbProviderFigures().map((p) => ({
      db_provider: p.db_provider,
      connections: whole(p.connections.success + p.connections.failure),
      success_rate: share(p.connections.success, p.connections.failure),
    })),
    performance: period.performanceFigures().map((p) => ({
      event_name: p.event_name,
      field: p.field,
      count: p.received,
      p50: round(p.sketch.getValueAtQuantile(0.5), PERCENTILE_DECIMALS),
      p95: round(p.sketch.getValueAtQuantile(0.95), PERCENTILE_DECIMALS),
      p99: round(p.sketch.getValueAtQuantile(0.99), PERCENTILE_DECIMALS),
    })),
    ingest: { ...period.ingest },
    // From every day given, those before `from` too: an install seen there is returning.
    ...installCohorts(days, from, to, grain),
  };
}

function crashFree(sessions: number, crashed: number): number | null {
  return sessions > 0 ? round(Math.max(0, 1 - crashed / sessions), RATE_DECIMALS) : null;
}

function share(success: number, failure: number): number | null {
  return success + failure > 0 ? round(success / (success + failure), RATE_DECIMALS) : null;
}

function mostCommon(counts: Record<string, number>): number | null {
  const [top] = Object.entries(counts).sort(([a, x], [b, y]) => y - x || Number(a) - Number(b));
  return top ? Number(top[0]) : null;
}

function whole(value: number): number {
  return Math.round(value);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
