import { v5 as uuidv5, v7 as uuidv7 } from "uuid";
import type { IngestConfig } from "../config.ts";
import { issuesOf, type Issue } from "../issue.ts";
import { storedEventSchema, toStoredEvent, type StoredEvent } from "./stored-event.ts";
import { DEFAULT_CLIENT_TYPE, ENVELOPE_KEYS, telemetryEventSchema, type TelemetryEvent } from "./telemetry-event.ts";
import { metadataViolations } from "./known-events.ts";
import { checkShape, SHAPE_LIMITS } from "./check-shape.ts";
import { credentialIn, scrubMetadata } from "./scrub-metadata.ts";
import { pseudonymizeHwid } from "./pseudonymize-hwid.ts";

/** The envelope's free text: what scrubbing cannot mend (an install id or a version is kept whole, or not at all). */
const ENVELOPE_TEXT_FIELDS = ["hwid", "event_name", "app_version", "client_type"] as const;

/** The most one event may take, serialized as the client sent it. */
export const MAX_EVENT_BYTES = 32 * 1024;
/** Event ids made from an `Idempotency-Key` live in their own UUID namespace, so they never collide with others. */
const IDEMPOTENCY_NAMESPACE = "c4ebc20c-6a1e-4f0e-96f2-a8db9cc2db78";

export type Prepared =
  | { kind: "rejected"; issues: Issue[] }
  /** Valid, of a client type that is answered and not stored (TELEMETRY_DROP_CLIENT_TYPES). */
  | { kind: "dropped"; clientType: string }
  | {
      kind: "kept";
      event: StoredEvent;
      /** The event_id came from the client (its own, or from its Idempotency-Key): it may come again. */
      clientId: boolean;
      /** Top-level keys the envelope does not define. */
      ignored: string[];
    };

export interface EventContext {
  ingest: IngestConfig;
  receivedAt: Date;
  /** The client address, as the IP mode keeps it. */
  ip: string | null;
  /** The caller's country (ISO 3166-1 alpha-2) as the platform placed it; null when unknown or not kept. */
  country?: string | null | undefined;
  /** The request's Idempotency-Key (single-event requests only). */
  idempotencyKey?: string | undefined;
}

/**
 * One event of a request, checked and made into the record to store: within its size and shape
 * limits, valid against the envelope (and, in strict mode, its known event's metadata schema), with
 * secrets and personal data scrubbed from its metadata.
 */
export function prepareEvent(value: unknown, context: EventContext): Prepared {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "rejected", issues: [{ path: "body", message: "an event must be a JSON object" }] };
  }
  // The shape first: it bounds the depth that serializing and validating below would recurse into.
  // The metadata is checked on its own, as the limits count it (it is the first level, and the
  // entries are its own), so that an issue states the limit a client has to keep; the rest of the
  // event, one level above, likewise.
  const { metadata, ...envelope } = value as Record<string, unknown>;
  const shapeIssues = [
    ...issuesOf(checkShape(envelope, { ...SHAPE_LIMITS, maxDepth: SHAPE_LIMITS.maxDepth + 1 })),
    ...issuesOf(checkShape(metadata, SHAPE_LIMITS), ["metadata"]),
  ];
  if (shapeIssues.length > 0) return { kind: "rejected", issues: shapeIssues };
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_EVENT_BYTES) {
    return {
      kind: "rejected",
      issues: [
        {
          path: "body",
          message: `the event is ${bytes} bytes serialized; the limit is ${MAX_EVENT_BYTES} (event_bytes)`,
        },
      ],
    };
  }
  const parsed = telemetryEventSchema.safeParse(value);
  if (!parsed.success) {
    return { kind: "rejected", issues: issuesOf(parsed.error.issues) };
  }
  const event = parsed.data;
  const credentials = credentialIssues(event);
  if (credentials.length > 0) return { kind: "rejected", issues: credentials };
  const violations = metadataViolations(event.event_name, event.metadata ?? {});
  if (violations.length > 0 && context.ingest.schemaMode === "strict") return { kind: "rejected", issues: violations };

  const clientType = event.client_type ?? DEFAULT_CLIENT_TYPE;
  if (context.ingest.dropClientTypes.includes(clientType)) return { kind: "dropped", clientType };

  const scrubbed = context.ingest.scrub
    ? scrubMetadata(event.metadata ?? {})
    : { metadata: event.metadata ?? {}, redactions: 0 };
  const hwid = pseudonymizeHwid(event.hwid, context.ingest.hwidMode, context.ingest.hwidSalt);
  // Made from the id as stored: in hash mode keyed with the salt, so that the event id tells nothing
  // of the raw id. Hashed as UTF-8 bytes: uuid's own encoding throws on a lone surrogate, which a
  // JSON string may hold (U+FFFD here).
  const clientId =
    event.event_id?.toLowerCase() ??
    (context.idempotencyKey
      ? uuidv5(Buffer.from(`${hwid}\n${context.idempotencyKey}`, "utf8"), IDEMPOTENCY_NAMESPACE)
      : undefined);
  const record = toStoredEvent(
    { ...event, hwid },
    {
      eventId: clientId ?? uuidv7(),
      createdAt: context.receivedAt,
      ip: context.ip,
      country: context.country,
      metadata: scrubbed.metadata,
      violations,
      redactions: scrubbed.redactions,
    },
  );
  // An offset can carry a timestamp of the year 0000 or 9999 out of the years a record can hold:
  // such a record would break the stored format, and stop the flusher when it reads it back.
  if (
    record.client_timestamp !== undefined &&
    !storedEventSchema.shape.client_timestamp.safeParse(record.client_timestamp).success
  ) {
    return {
      kind: "rejected",
      issues: [{ path: "timestamp", message: "must fall within the years 0000 to 9999 once converted to UTC" }],
    };
  }
  return {
    kind: "kept",
    event: record,
    clientId: clientId !== undefined,
    ignored: Object.keys(value).filter((key) => !ENVELOPE_KEYS.includes(key)),
  };
}

/**
 * An envelope field that holds a credential is refused rather than scrubbed: scrubbing would merge
 * installs or versions, and a stored credential is refused again by GitHub's push protection on
 * every commit of its file.
 */
function credentialIssues(event: TelemetryEvent): Issue[] {
  return ENVELOPE_TEXT_FIELDS.flatMap((field) => {
    const kind = event[field] ? credentialIn(event[field]) : undefined;
    return kind
      ? [{ path: field, message: `holds what looks like a ${kind}; an event carrying one is not stored` }]
      : [];
  });
}
