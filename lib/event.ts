import { z } from "zod";

export const DEFAULT_CLIENT_TYPE = "vector-inspector";

const CONTROL_CHARACTERS = /\p{Cc}/u;

/** `null` from a client (Python's `None`) means "not given", as an absent key does. */
const absentAsUndefined = (value: unknown) => (value === null ? undefined : value);

/** The envelope a client sends. The single source of truth for what an event is. */
export const telemetryEventSchema = z.object({
  hwid: z.string().min(1).max(128),
  event_name: z
    .string()
    .min(1)
    .max(128)
    .refine((name) => !CONTROL_CHARACTERS.test(name), "must not contain control characters"),
  app_version: z.string().min(1).max(64),
  client_type: z.preprocess(absentAsUndefined, z.string().min(1).max(64).default(DEFAULT_CLIENT_TYPE)),
  metadata: z.preprocess(absentAsUndefined, z.record(z.string(), z.unknown()).default({})),
});

export type TelemetryEvent = z.output<typeof telemetryEventSchema>;

/** Top-level keys the envelope defines; any other key is ignored and reported back. */
export const ENVELOPE_KEYS: readonly string[] = Object.keys(telemetryEventSchema.shape);

/** One stored NDJSON line: what the server records, then the envelope. Key order is the line's column order. */
export const storedEventSchema = z.object({
  event_id: z.uuid({ version: "v7" }),
  created_at: z.iso.datetime({ precision: 3 }),
  ip: z.string().nullable(),
  ...telemetryEventSchema.shape,
});

export type StoredEvent = z.output<typeof storedEventSchema>;

export interface ServerFields {
  eventId: string;
  createdAt: Date;
  ip: string | null;
}

export function toStoredEvent(event: TelemetryEvent, server: ServerFields): StoredEvent {
  return {
    event_id: server.eventId,
    created_at: server.createdAt.toISOString(),
    ip: server.ip,
    hwid: event.hwid,
    event_name: event.event_name,
    app_version: event.app_version,
    client_type: event.client_type,
    metadata: event.metadata,
  };
}
