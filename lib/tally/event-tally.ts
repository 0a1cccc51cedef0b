import { DDSketch } from "@datadog/sketches-js";
import { scrubMetadata } from "../events/scrub-metadata.ts";
import type { StoredEvent } from "../events/stored-event.ts";
import { ROLLUP_VERSION, type DayRollup } from "./day-rollup.ts";
import { fingerprintError } from "./fingerprint-error.ts";
import {
  BREAKDOWN_PRECISION,
  HyperLogLog,
  installHash,
  INSTALLS_PRECISION,
  type InstallHash,
} from "./hyper-log-log.ts";
import { normalizeOs, type OperatingSystem } from "./normalize-os.ts";

/** Client types of test runs: stored when not dropped at ingest, left out of every figure. */
const TEST_CLIENT_TYPES = new Set(["unit-tests"]);
const LAUNCH = "app_launch";
const SESSION_START = "session.start";
const SESSION_END = "session.end";
const CRASH_EXIT = "crash";
const MODEL_REGISTRATION = "model_registration";
const DB_CONNECTION_RESULT = "db.connection_result";
const PERFORMANCE_FIELDS = ["duration_ms", "latency_ms"] as const;
/** DDSketch's relative accuracy: a p95 of 200 ms is told within 2 ms. */
const QUANTILE_ACCURACY = 0.01;
/** A sample traceback keeps its last lines: the innermost frames and the exception. */
const SAMPLE_TRACEBACK_LINES = 30;
const SAMPLE_MESSAGE_CHARS = 2000;
const UNKNOWN = "unknown";
/** Field separator of composite map keys: cannot appear in JSON-decoded text we key by. */
const KEY_SEPARATOR = "\u0000";

type Outcomes = { success: number; failure: number };
type Counts = Record<string, number>;
type PerformanceField = (typeof PERFORMANCE_FIELDS)[number];

interface Breakdown {
  received: number;
  estimated: number;
  installs: HyperLogLog;
}

interface VersionFigures extends Breakdown {
  launches: number;
  sessions: number;
  crashed_sessions: number;
}

interface OsFigures {
  family: string;
  version: string | null;
  received: number;
  installs: HyperLogLog;
}

interface ErrorFigures extends Breakdown {
  exception_type: string;
  message: string;
  traceback: string | null;
  first_seen: string;
  last_seen: string;
  versions: Set<string>;
}

interface ModelFigures {
  model_name: string;
  model_source: string;
  received: number;
  registrations: number;
  installs: HyperLogLog;
  embedding_dimensions: Counts;
  modalities: Counts;
  normalization: Counts;
  distance_metrics: Counts;
  device_types: Counts;
  load: Outcomes;
  inference: Outcomes;
}

interface PerformanceFigures {
  event_name: string;
  field: PerformanceField;
  received: number;
  sketch: DDSketch;
}

/** What the day's files themselves hold, test traffic and bad lines included. */
export interface IngestFigures {
  lines: number;
  bytes: number;
  parts: number;
  malformed: number;
  test_events: number;
}

/**
 * The figures of a set of events (a day, or a period of days merged), counted as they are read:
 * the one aggregation behind the rollups, the dashboard and `telemetry report`. It is written to a
 * rollup and read back without loss (sketches included), so that a day read in several runs, or a
 * month made of days, gives the figures one pass over all the events would.
 */
export class EventTally {
  readonly ingest: IngestFigures = { lines: 0, bytes: 0, parts: 0, malformed: 0, test_events: 0 };
  readonly installs = new HyperLogLog(INSTALLS_PRECISION);
  received = 0;
  estimated = 0;
  readonly sessions = { started: 0, ended: 0, crashed: 0 };
  private readonly events = new Map<string, Breakdown>();
  private readonly versions = new Map<string, VersionFigures>();
  private readonly os = new Map<string, OsFigures>();
  private readonly clientTypes = new Map<string, number>();
  private readonly errors = new Map<string, ErrorFigures>();
  private readonly models = new Map<string, ModelFigures>();
  private readonly dbProviders = new Map<string, Outcomes>();
  private readonly performance = new Map<string, PerformanceFigures>();
  /** What each OS string a client sent stands for: a few strings, sent a million times a day. */
  private readonly osNames = new Map<string, OperatingSystem>();

  /** Counts one stored line (the reader checked its shape). */
  add(event: StoredEvent): void {
    this.ingest.lines += 1;
    if (TEST_CLIENT_TYPES.has(event.client_type)) {
      this.ingest.test_events += 1;
      return;
    }
    const metadata = event.metadata;
    const weight = weightOf(metadata.sampling_rate);
    const hash = installHash(event.hwid);
    this.received += 1;
    this.estimated += weight;
    this.installs.add(hash);
    count(
      breakdown(this.events, event.event_name, () => ({})),
      weight,
      hash,
    );
    this.clientTypes.set(event.client_type, (this.clientTypes.get(event.client_type) ?? 0) + 1);

    const version = breakdown(this.versions, event.app_version, () => ({
      launches: 0,
      sessions: 0,
      crashed_sessions: 0,
    }));
    count(version, weight, hash);
    if (event.event_name === LAUNCH) version.launches += weight;
    if (event.event_name === SESSION_START) {
      version.sessions += weight;
      this.sessions.started += weight;
    }
    if (event.event_name === SESSION_END) {
      this.sessions.ended += weight;
      if (metadata.exit_reason === CRASH_EXIT) {
        version.crashed_sessions += weight;
        this.sessions.crashed += weight;
      }
    }
    if (typeof metadata.os === "string") this.countOs(metadata.os, hash);
    this.countError(event, weight, hash);
    if (event.event_name === MODEL_REGISTRATION) this.countModel(metadata, weight, hash);
    if (event.event_name === DB_CONNECTION_RESULT && typeof metadata.success === "boolean") {
      const provider = text(metadata.db_type) ?? text(metadata.db_provider) ?? UNKNOWN;
      const outcomes = this.dbProviders.get(provider) ?? { success: 0, failure: 0 };
      outcomes[metadata.success ? "success" : "failure"] += weight;
      this.dbProviders.set(provider, outcomes);
    }
    for (const field of PERFORMANCE_FIELDS) {
      const value = metadata[field];
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) continue;
      const key = `${event.event_name}${KEY_SEPARATOR}${field}`;
      let figures = this.performance.get(key);
      if (!figures) {
        figures = { event_name: event.event_name, field, received: 0, sketch: newQuantiles() };
        this.performance.set(key, figures);
      }
      figures.received += 1;
      figures.sketch.accept(value, weight);
    }
  }

  /** Adds `other`'s figures to these: the tally of both sets of events. */
  merge(other: EventTally): void {
    for (const key of Object.keys(this.ingest) as (keyof IngestFigures)[]) this.ingest[key] += other.ingest[key];
    this.installs.merge(other.installs);
    this.received += other.received;
    this.estimated += other.estimated;
    for (const key of ["started", "ended", "crashed"] as const) this.sessions[key] += other.sessions[key];
    mergeBreakdowns(this.events, other.events, () => ({}));
    mergeBreakdowns(
      this.versions,
      other.versions,
      () => ({ launches: 0, sessions: 0, crashed_sessions: 0 }),
      (a, b) => {
        a.launches += b.launches;
        a.sessions += b.sessions;
        a.crashed_sessions += b.crashed_sessions;
      },
    );
    for (const [key, theirs] of other.os) {
      const ours = this.os.get(key);
      if (!ours) this.os.set(key, { ...theirs, installs: copyOf(theirs.installs) });
      else {
        ours.received += theirs.received;
        ours.installs.merge(theirs.installs);
      }
    }
    for (const [type, received] of other.clientTypes)
      this.clientTypes.set(type, (this.clientTypes.get(type) ?? 0) + received);
    for (const [key, theirs] of other.errors) {
      const ours = this.errors.get(key);
      if (!ours) {
        this.errors.set(key, { ...theirs, installs: copyOf(theirs.installs), versions: new Set(theirs.versions) });
        continue;
      }
      ours.received += theirs.received;
      ours.estimated += theirs.estimated;
      ours.installs.merge(theirs.installs);
      theirs.versions.forEach((v) => ours.versions.add(v));
      // The sample is the earliest occurrence's, whichever order the days are merged in.
      if (theirs.first_seen < ours.first_seen) {
        Object.assign(ours, { first_seen: theirs.first_seen, message: theirs.message, traceback: theirs.traceback });
      }
      if (theirs.last_seen > ours.last_seen) ours.last_seen = theirs.last_seen;
    }
    for (const [key, theirs] of other.models) {
      const ours = this.models.get(key);
      if (!ours) {
        this.models.set(key, {
          ...structuredClone({ ...theirs, installs: undefined }),
          installs: copyOf(theirs.installs),
        });
        continue;
      }
      ours.received += theirs.received;
      ours.registrations += theirs.registrations;
      ours.installs.merge(theirs.installs);
      for (const field of [
        "embedding_dimensions",
        "modalities",
        "normalization",
        "distance_metrics",
        "device_types",
      ] as const) {
        for (const [value, n] of Object.entries(theirs[field])) ours[field][value] = (ours[field][value] ?? 0) + n;
      }
      for (const field of ["load", "inference"] as const) addOutcomes(ours[field], theirs[field]);
    }
    for (const [provider, theirs] of other.dbProviders) {
      const ours = this.dbProviders.get(provider) ?? { success: 0, failure: 0 };
      addOutcomes(ours, theirs);
      this.dbProviders.set(provider, ours);
    }
    for (const [key, theirs] of other.performance) {
      const ours = this.performance.get(key);
      if (!ours) {
        const sketch = newQuantiles();
        sketch.merge(theirs.sketch);
        this.performance.set(key, { ...theirs, sketch });
      } else {
        ours.received += theirs.received;
        ours.sketch.merge(theirs.sketch);
      }
    }
  }

  /** The figures by event name, most frequent first. */
  eventFigures() {
    return sorted(this.events, (name, f) => ({ event_name: name, ...f }));
  }

  versionFigures() {
    return sorted(this.versions, (version, f) => ({ app_version: version, ...f }));
  }

  osFigures(): OsFigures[] {
    return [...this.os.values()].sort((a, b) => b.received - a.received || keyOrder(a.family, b.family));
  }

  clientTypeFigures() {
    return [...this.clientTypes]
      .map(([client_type, received]) => ({ client_type, received }))
      .sort((a, b) => b.received - a.received || keyOrder(a.client_type, b.client_type));
  }

  errorFigures() {
    return sorted(this.errors, (fingerprint, f) => ({
      fingerprint,
      ...f,
      versions: [...f.versions].sort(versionOrder),
    }));
  }

  modelFigures(): ModelFigures[] {
    return [...this.models.values()].sort(
      (a, b) => b.registrations - a.registrations || keyOrder(a.model_name, b.model_name),
    );
  }

  dbProviderFigures() {
    return [...this.dbProviders]
      .map(([db_provider, connections]) => ({ db_provider, connections }))
      .sort((a, b) => total(b.connections) - total(a.connections) || keyOrder(a.db_provider, b.db_provider));
  }

  performanceFigures(): PerformanceFigures[] {
    return [...this.performance.values()].sort(
      (a, b) => keyOrder(a.event_name, b.event_name) || keyOrder(a.field, b.field),
    );
  }

  /** The tally as a day's rollup stores it. */
  toRollup(fields: Pick<DayRollup, "day" | "updated_at" | "complete" | "source" | "parts">): DayRollup {
    const encodeBreakdown = <T extends { installs: HyperLogLog }>(figures: T) => ({
      ...figures,
      installs: figures.installs.encode(),
    });
    return {
      version: ROLLUP_VERSION,
      ...fields,
      ingest: { ...this.ingest },
      installs: this.installs.encode(),
      received: this.received,
      estimated: this.estimated,
      events: this.eventFigures().map(encodeBreakdown),
      versions: this.versionFigures().map(encodeBreakdown),
      os: this.osFigures().map(encodeBreakdown),
      client_types: this.clientTypeFigures(),
      sessions: { ...this.sessions },
      errors: this.errorFigures().map(encodeBreakdown),
      models: this.modelFigures().map(encodeBreakdown),
      db_providers: this.dbProviderFigures(),
      performance: this.performanceFigures().map((f) => ({
        event_name: f.event_name,
        field: f.field,
        received: f.received,
        sketch: Buffer.from(f.sketch.toProto()).toString("base64"),
      })),
    };
  }

  /** A rollup's figures, to merge or go on counting. */
  static fromRollup(rollup: DayRollup): EventTally {
    const tally = new EventTally();
    Object.assign(tally.ingest, rollup.ingest);
    tally.installs.merge(HyperLogLog.decode(rollup.installs));
    tally.received = rollup.received;
    tally.estimated = rollup.estimated;
    Object.assign(tally.sessions, rollup.sessions);
    const decoded = <T extends { installs: string }>(figures: T) => ({
      ...figures,
      installs: HyperLogLog.decode(figures.installs),
    });
    for (const { event_name, ...f } of rollup.events) tally.events.set(event_name, decoded(f));
    for (const { app_version, ...f } of rollup.versions) tally.versions.set(app_version, decoded(f));
    for (const f of rollup.os) tally.os.set(osKey(f.family, f.version), decoded(f));
    for (const { client_type, received } of rollup.client_types) tally.clientTypes.set(client_type, received);
    for (const { fingerprint, ...f } of rollup.errors) {
      tally.errors.set(fingerprint, { ...decoded(f), versions: new Set(f.versions) });
    }
    for (const f of rollup.models) tally.models.set(modelKey(f.model_name, f.model_source), decoded(f));
    for (const { db_provider, connections } of rollup.db_providers)
      tally.dbProviders.set(db_provider, { ...connections });
    for (const f of rollup.performance) {
      tally.performance.set(`${f.event_name}${KEY_SEPARATOR}${f.field}`, {
        ...f,
        sketch: DDSketch.fromProto(Buffer.from(f.sketch, "base64")),
      });
    }
    return tally;
  }

  private countOs(reported: string, hash: InstallHash): void {
    let os = this.osNames.get(reported);
    if (!os) {
      os = normalizeOs(reported);
      this.osNames.set(reported, os);
    }
    const { family, version } = os;
    const key = osKey(family, version);
    let figures = this.os.get(key);
    if (!figures) {
      figures = { family, version, received: 0, installs: new HyperLogLog(BREAKDOWN_PRECISION) };
      this.os.set(key, figures);
    }
    figures.received += 1;
    figures.installs.add(hash);
  }

  private countError(event: StoredEvent, weight: number, hash: InstallHash): void {
    const occurrence = fingerprintError(event);
    if (!occurrence) return;
    const at = event.created_at;
    let figures = this.errors.get(occurrence.fingerprint);
    if (!figures || at < figures.first_seen) {
      const sample = scrubMetadata({
        message: occurrence.message.slice(0, SAMPLE_MESSAGE_CHARS),
        traceback: lastLines(event.metadata.traceback),
      }).metadata;
      figures ??= {
        received: 0,
        estimated: 0,
        installs: new HyperLogLog(BREAKDOWN_PRECISION),
        exception_type: occurrence.exceptionType,
        message: "",
        traceback: null,
        first_seen: at,
        last_seen: at,
        versions: new Set(),
      };
      figures.message = String(sample.message);
      figures.traceback = typeof sample.traceback === "string" ? sample.traceback : null;
      figures.first_seen = at;
      this.errors.set(occurrence.fingerprint, figures);
    }
    count(figures, weight, hash);
    if (at > figures.last_seen) figures.last_seen = at;
    figures.versions.add(event.app_version);
  }

  private countModel(metadata: Record<string, unknown>, weight: number, hash: InstallHash): void {
    const name = text(metadata.model_name);
    if (!name) return;
    const source = text(metadata.model_source) ?? UNKNOWN;
    const key = modelKey(name, source);
    let figures = this.models.get(key);
    if (!figures) {
      figures = {
        model_name: name,
        model_source: source,
        received: 0,
        registrations: 0,
        installs: new HyperLogLog(BREAKDOWN_PRECISION),
        embedding_dimensions: {},
        modalities: {},
        normalization: {},
        distance_metrics: {},
        device_types: {},
        load: { success: 0, failure: 0 },
        inference: { success: 0, failure: 0 },
      };
      this.models.set(key, figures);
    }
    figures.received += 1;
    figures.registrations += weight;
    figures.installs.add(hash);
    const dimension = metadata.embedding_dimension;
    if (typeof dimension === "number" && Number.isInteger(dimension))
      tallyValue(figures.embedding_dimensions, String(dimension));
    if (Array.isArray(metadata.modalities)) {
      for (const modality of new Set(metadata.modalities.filter((m) => typeof m === "string"))) {
        tallyValue(figures.modalities, modality);
      }
    }
    tallyValue(figures.normalization, text(metadata.normalization));
    tallyValue(figures.distance_metrics, text(metadata.distance_metric));
    tallyValue(figures.device_types, text(metadata.device_type));
    if (typeof metadata.load_success === "boolean")
      figures.load[metadata.load_success ? "success" : "failure"] += weight;
    if (typeof metadata.inference_success === "boolean") {
      figures.inference[metadata.inference_success ? "success" : "failure"] += weight;
    }
  }
}

/** An event sent with `sampling_rate` r in (0, 1] stands for 1/r events; anything else for itself. */
function weightOf(rate: unknown): number {
  return typeof rate === "number" && rate > 0 && rate <= 1 ? 1 / rate : 1;
}

function breakdown<T extends Breakdown>(map: Map<string, T>, key: string, extra: () => Omit<T, keyof Breakdown>): T {
  let figures = map.get(key);
  if (!figures) {
    figures = { received: 0, estimated: 0, installs: new HyperLogLog(BREAKDOWN_PRECISION), ...extra() } as T;
    map.set(key, figures);
  }
  return figures;
}

function count(figures: Breakdown, weight: number, hash: InstallHash): void {
  figures.received += 1;
  figures.estimated += weight;
  figures.installs.add(hash);
}

function mergeBreakdowns<T extends Breakdown>(
  ours: Map<string, T>,
  theirs: Map<string, T>,
  extra: () => Omit<T, keyof Breakdown>,
  mergeExtra?: (a: T, b: T) => void,
): void {
  for (const [key, figures] of theirs) {
    const into = breakdown(ours, key, extra);
    into.received += figures.received;
    into.estimated += figures.estimated;
    into.installs.merge(figures.installs);
    mergeExtra?.(into, figures);
  }
}

function sorted<T extends { estimated: number }, R>(map: Map<string, T>, shape: (key: string, figures: T) => R): R[] {
  return [...map]
    .sort(([a, fa], [b, fb]) => fb.estimated - fa.estimated || keyOrder(a, b))
    .map(([key, figures]) => shape(key, figures));
}

function copyOf(sketch: HyperLogLog): HyperLogLog {
  const copy = new HyperLogLog(sketch.precision);
  copy.merge(sketch);
  return copy;
}

function newQuantiles(): DDSketch {
  return new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY });
}

function addOutcomes(into: Outcomes, from: Outcomes): void {
  into.success += from.success;
  into.failure += from.failure;
}

function total(outcomes: Outcomes): number {
  return outcomes.success + outcomes.failure;
}

function tallyValue(counts: Counts, value: string | undefined): void {
  if (value !== undefined) counts[value] = (counts[value] ?? 0) + 1;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function lastLines(traceback: unknown): string | null {
  if (typeof traceback !== "string" || traceback === "") return null;
  return traceback.split(/\r?\n/).slice(-SAMPLE_TRACEBACK_LINES).join("\n");
}

function osKey(family: string, version: string | null): string {
  return `${family}${KEY_SEPARATOR}${version ?? ""}`;
}

function modelKey(name: string, source: string): string {
  return `${name}${KEY_SEPARATOR}${source}`;
}

/** Plain code-point order: the same on every machine, unlike a locale's. */
function keyOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Versions as people order them: 1.9 before 1.10. */
export function versionOrder(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const [x = "", y = ""] = [pa[i], pb[i]];
    const [nx, ny] = [Number(x), Number(y)];
    const order = x !== "" && y !== "" && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : keyOrder(x, y);
    if (order !== 0) return order;
  }
  return 0;
}
