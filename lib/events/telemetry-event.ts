import { z } from "zod";

export const DEFAULT_CLIENT_TYPE = "vector-inspector";

const CONTROL_CHARACTERS = /\p{Cc}/u;

/** A point in time as ISO-8601; one without an offset is read as UTC. */
export const clientTimestampSchema = z.iso.datetime({ offset: true, local: true });

/**
 * The envelope a client sends: the single source of truth for what an event is. `null` (Python's
 * `None`) means "not given", as an absent key does.
 */
export const telemetryEventSchema = z.object({
  event_id: z
    .uuid()
    .nullish()
    .describe("A UUID the client gives its event: the same event_id sent again is stored once"),
  timestamp: clientTimestampSchema
    .nullish()
    .describe("When the event happened on the client (ISO-8601); stored as client_timestamp"),
  hwid: z.string().min(1).max(128).describe("The install's persistent identifier"),
  event_name: z
    .string()
    .min(1)
    .max(128)
    .refine((name) => !CONTROL_CHARACTERS.test(name), "must not contain control characters"),
  app_version: z.string().min(1).max(64),
  client_type: z.string().min(1).max(64).nullish().describe(`Defaults to "${DEFAULT_CLIENT_TYPE}"`),
  metadata: z.record(z.string(), z.unknown()).nullish().describe("Event-specific fields; defaults to {}"),
});

export type TelemetryEvent = z.output<typeof telemetryEventSchema>;

/** Top-level keys the envelope defines; any other key is ignored and reported back. */
export const ENVELOPE_KEYS: readonly string[] = Object.keys(telemetryEventSchema.shape);
