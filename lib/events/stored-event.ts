import { z } from "zod";
import { issueSchema, type Issue } from "../issue.ts";
import { DEFAULT_CLIENT_TYPE, telemetryEventSchema, type TelemetryEvent } from "./telemetry-event.ts";

/** One stored NDJSON line: what the server records, then the envelope. Key order is the line's column order. */
export const storedEventSchema = z.object({
  event_id: z.uuid(),
  created_at: z.iso
    .datetime({ precision: 3 })
    .describe("When the server received the event (UTC); the file's day comes from it"),
  client_timestamp: z.iso.datetime({ precision: 3 }).optional().describe("The client's timestamp, in UTC"),
  ip: z.string().nullable().describe("The client address, as TELEMETRY_IP_MODE keeps it"),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional()
    .describe(
      "The caller's country (ISO 3166-1 alpha-2) as Netlify's edge placed it; absent when unknown or TELEMETRY_GEO=off",
    ),
  hwid: telemetryEventSchema.shape.hwid,
  event_name: telemetryEventSchema.shape.event_name,
  app_version: telemetryEventSchema.shape.app_version,
  client_type: z.string().min(1).max(64),
  metadata: z.record(z.string(), z.unknown()),
  schema_violations: z
    .array(issueSchema)
    .optional()
    .describe("How a known event's metadata breaks its schema (lenient mode)"),
  redactions: z.number().int().positive().optional().describe("How many values scrubbing replaced"),
});

export type StoredEvent = z.output<typeof storedEventSchema>;

export interface ServerFields {
  eventId: string;
  createdAt: Date;
  ip: string | null;
  country?: string | null | undefined;
  /** The metadata as stored (scrubbed); the event's own when not given. */
  metadata?: Record<string, unknown>;
  violations?: Issue[];
  redactions?: number;
}

export function toStoredEvent(event: TelemetryEvent, server: ServerFields): StoredEvent {
  return {
    event_id: server.eventId,
    created_at: server.createdAt.toISOString(),
    ...(event.timestamp ? { client_timestamp: utcTimestamp(event.timestamp) } : {}),
    ip: server.ip,
    ...(server.country ? { country: server.country } : {}),
    hwid: event.hwid,
    event_name: event.event_name,
    app_version: event.app_version,
    client_type: event.client_type ?? DEFAULT_CLIENT_TYPE,
    metadata: server.metadata ?? event.metadata ?? {},
    ...(server.violations?.length ? { schema_violations: server.violations } : {}),
    ...(server.redactions ? { redactions: server.redactions } : {}),
  };
}

function utcTimestamp(timestamp: string): string {
  const hasOffset = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(timestamp);
  return new Date(hasOffset ? timestamp : `${timestamp}Z`).toISOString();
}
