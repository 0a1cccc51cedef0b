import { z } from "zod";

/** Where the rollups (and their index) live in the data repository: `rollups/YYYY/YYYY-MM-DD.json`. */
export const ROLLUPS_DIR = "rollups";

/** The rollup format's version: a reader meeting another rebuilds the day from its files. */
export const ROLLUP_VERSION = 1;

/** A sampling-weighted estimate (an event sent with `sampling_rate` r counts 1/r): not always whole. */
const estimate = z.number().nonnegative();
const lines = z.number().int().nonnegative();
const sketch = z.string().describe("Distinct installs: a HyperLogLog sketch (base64), mergeable across days");
const quantiles = z.string().describe("A DDSketch (1% relative accuracy) in its protobuf form, base64: mergeable");
const counts = z.record(z.string(), lines).describe("Lines by value");
const outcomes = z.object({ success: estimate, failure: estimate });

const rollupEventSchema = z.object({
  event_name: z.string(),
  received: lines.describe("Lines seen"),
  estimated: estimate.describe("Events estimated, sampling weights applied"),
  installs: sketch,
});

const rollupVersionSchema = z.object({
  app_version: z.string(),
  received: lines,
  estimated: estimate,
  launches: estimate.describe("app_launch events"),
  sessions: estimate.describe("session.start events"),
  crashed_sessions: estimate.describe('session.end events with exit_reason "crash"'),
  installs: sketch,
});

const rollupOsSchema = z.object({
  family: z.string().describe("Windows, macOS, Linux, other or unknown"),
  version: z.string().nullable().describe("The version as its users name it (11, 14, 6.1)"),
  received: lines.describe("Lines that named this OS (metadata.os)"),
  installs: sketch,
});

const rollupErrorSchema = z.object({
  fingerprint: z
    .string()
    .describe("The client's error_hash, else one derived from type, top in-app frame and masked message"),
  exception_type: z.string(),
  message: z.string().describe("One occurrence's message, as stored (scrubbed at ingest)"),
  traceback: z.string().nullable().describe("One occurrence's traceback, cut to its last lines"),
  received: lines,
  estimated: estimate,
  installs: sketch,
  first_seen: z.iso.datetime({ precision: 3 }),
  last_seen: z.iso.datetime({ precision: 3 }),
  versions: z.array(z.string()).describe("App versions that reported it, in version order"),
});

const rollupModelSchema = z.object({
  model_name: z.string(),
  model_source: z.string(),
  received: lines,
  registrations: estimate,
  installs: sketch,
  embedding_dimensions: counts,
  modalities: counts,
  normalization: counts,
  distance_metrics: counts,
  device_types: counts,
  load: outcomes.describe("load_success true / false"),
  inference: outcomes.describe("inference_success true / false"),
});

const rollupDbProviderSchema = z.object({
  db_provider: z.string().describe("db.connection_result's db_type (else db_provider)"),
  connections: outcomes,
});

const rollupPerformanceSchema = z.object({
  event_name: z.string(),
  field: z.enum(["duration_ms", "latency_ms"]),
  received: lines,
  sketch: quantiles,
});

/** How far a day's files have been read: each part's bytes taken, so that the next run reads only what was appended. */
const rollupPartSchema = z.object({
  name: z
    .string()
    .describe("The part's file name in the day's folder, e.g. 0001.ndjson (or the day's file, old layout)"),
  bytes: lines.describe("Bytes read, up to the end of the last whole line"),
  lines: lines.describe("Lines read, so that a later line is named by its number"),
});

/**
 * One UTC day of telemetry, computed from that day's NDJSON files (which stay the truth: a rollup
 * can always be rebuilt from them). Every figure leaves out test-client traffic. Counts of installs
 * are sketches, so that weeks and months are the union of their days.
 */
export const dayRollupSchema = z
  .object({
    version: z.literal(ROLLUP_VERSION),
    day: z.iso.date(),
    updated_at: z.iso.datetime({ precision: 3 }),
    complete: z.boolean().describe("The day is over and its files were read to their end"),
    source: z
      .string()
      .nullable()
      .describe("What the day's files were when read to their end (git ids): unchanged, there is nothing new to read"),
    parts: z.array(rollupPartSchema),
    ingest: z.object({
      lines: lines.describe("Lines in the day's files, test traffic included"),
      bytes: lines,
      parts: lines,
      malformed: lines.describe("Lines that are not a stored event (left out of every figure)"),
      test_events: lines.describe("Lines of test clients (client_type unit-tests), left out of every figure"),
    }),
    installs: sketch.describe("Active installs (HyperLogLog, 2^14 registers: 0.8% standard error)"),
    received: lines,
    estimated: estimate,
    events: z.array(rollupEventSchema),
    versions: z.array(rollupVersionSchema),
    os: z.array(rollupOsSchema),
    client_types: z.array(z.object({ client_type: z.string(), received: lines })),
    sessions: z.object({ started: estimate, ended: estimate, crashed: estimate }),
    errors: z.array(rollupErrorSchema),
    models: z.array(rollupModelSchema),
    db_providers: z.array(rollupDbProviderSchema),
    performance: z.array(rollupPerformanceSchema),
  })
  .meta({ title: "Daily telemetry rollup" });

export type DayRollup = z.output<typeof dayRollupSchema>;
