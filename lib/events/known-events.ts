import { z } from "zod";
import { issuesOf, type Issue } from "../issue.ts";

/**
 * The metadata of the events the Vector Inspector client sends (its telemetry catalogue). Every
 * field is optional unless an event means nothing without it, `null` stands for "not given" (the
 * client is Python), and fields not listed are kept: clients add fields before the server learns of them.
 */
const text = z.string().max(16_384);
const count = z.number().int().nonnegative();
const milliseconds = z.number().nonnegative();
const optional = <T extends z.ZodType>(schema: T) => schema.nullish();

/** Fields any event may carry: the context the client injects, and how a sampled event was sampled. */
const common = {
  session_id: optional(text),
  correlation_id: optional(text),
  db_provider: optional(text),
  collection_name: optional(text),
  sampling_rate: optional(z.number().min(0).max(1)),
  sampling_seed_type: optional(text),
  sampling_version: optional(z.union([text, z.number()])),
};

/** What an error event carries (`UncaughtException`, `*_failed`, custom error names). */
const error = {
  message: optional(text),
  traceback: optional(text),
  error_hash: optional(text),
  exception_type: optional(text),
};

const metadata = (fields: z.ZodRawShape) => z.looseObject({ ...common, ...fields });

export const knownEvents = {
  app_launch: metadata({
    os: optional(text),
    hardware: optional(z.record(z.string(), z.unknown())),
  }),
  model_registration: metadata({
    model_name: text.min(1),
    model_source: optional(text),
    model_version: optional(text),
    embedding_dimension: optional(z.number().int().positive()),
    modalities: optional(z.array(text)),
    distance_metric: optional(text),
    normalization: optional(text),
    load_success: optional(z.boolean()),
    inference_success: optional(z.boolean()),
    device_type: optional(text),
    local_path_hash: optional(text),
    timestamp: optional(text),
    client_id: optional(text),
  }),
  "db.connection_attempt": metadata({
    db_type: optional(text),
    host_hash: optional(text),
    connection_id: optional(text),
  }),
  "db.connection_result": metadata({
    success: optional(z.boolean()),
    db_type: optional(text),
    error_code: optional(z.union([text, z.number()])),
    error_class: optional(text),
    duration_ms: optional(milliseconds),
  }),
  "sample_db.create_started": metadata({
    db_type: optional(text),
    sample_db_id: optional(text),
    estimated_rows: optional(count),
  }),
  "sample_db.create_completed": metadata({
    success: optional(z.boolean()),
    db_type: optional(text),
    sample_db_id: optional(text),
    rows_created: optional(count),
    duration_ms: optional(milliseconds),
  }),
  "sample_db.create_failed": metadata({
    ...error,
    db_type: optional(text),
    sample_db_id: optional(text),
    error_code: optional(z.union([text, z.number()])),
    retriable: optional(z.boolean()),
  }),
  "query.executed": metadata({
    query_type: optional(text),
    db_type: optional(text),
    result_count: optional(count),
    latency_ms: optional(milliseconds),
    filters_applied: optional(
      z.union([text, z.number(), z.boolean(), z.array(z.unknown()), z.record(z.string(), z.unknown())]),
    ),
    success: optional(z.boolean()),
  }),
  "embedding.request": metadata({
    provider: optional(text),
    model_id: optional(text),
    batch_size: optional(count),
    latency_ms: optional(milliseconds),
    error_code: optional(z.union([text, z.number()])),
    success: optional(z.boolean()),
  }),
  "clustering.run": metadata({
    algorithm: optional(text),
    params: optional(z.union([z.record(z.string(), z.unknown()), z.array(z.unknown()), text])),
    dataset_size: optional(count),
    cluster_count: optional(count),
    noise_count: optional(count),
    duration_ms: optional(milliseconds),
    success: optional(z.boolean()),
  }),
  "visualization.generated": metadata({
    method: optional(text),
    dims: optional(count),
    points_rendered: optional(count),
    duration_ms: optional(milliseconds),
    success: optional(z.boolean()),
  }),
  "session.start": metadata({
    os: optional(text),
  }),
  "session.end": metadata({
    os: optional(text),
    duration_ms: optional(milliseconds),
    exit_reason: optional(text),
    app_version: optional(text),
  }),
  "feature.toggled": metadata({
    feature_name: text.min(1),
    new_value: z.boolean(),
  }),
  UncaughtException: metadata({
    ...error,
    message: text,
  }),
  QtError: metadata({
    message: text,
    msg_type: optional(z.union([text, z.number()])),
    file: optional(text),
    line: optional(z.number().int()),
    function: optional(text),
  }),
} satisfies Record<string, z.ZodType>;

export type KnownEventName = keyof typeof knownEvents;

function isKnownEvent(name: string): name is KnownEventName {
  return Object.hasOwn(knownEvents, name);
}

/** How an event's metadata breaks its known event's schema; [] for a valid or an unknown event. */
export function metadataViolations(eventName: string, metadata: Record<string, unknown>): Issue[] {
  if (!isKnownEvent(eventName)) return [];
  const result = knownEvents[eventName].safeParse(metadata);
  if (result.success) return [];
  return issuesOf(result.error.issues, ["metadata"]);
}
