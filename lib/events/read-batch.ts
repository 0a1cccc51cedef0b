import { z } from "zod";
import { describeIssues, issueSchema, issuesOf } from "../issue.ts";
import { clientTimestampSchema } from "./telemetry-event.ts";
import { InputError } from "./input-error.ts";

/** At most this many events in one request. */
export const MAX_EVENTS_PER_REQUEST = 500;
/** The media types of NDJSON (one event per line); anything else is read as JSON. */
const NDJSON_MEDIA_TYPES = new Set([
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/x-jsonlines",
]);
/** JSON bodies: `sendBeacon` can only send text/plain, and some clients set no type. */
const JSON_MEDIA_TYPES = new Set(["application/json", "text/plain", ""]);
/** Exports carry no application version; the records say so rather than guess. */
const EXPORT_APP_VERSION = "unknown";

/** The model-metadata export file of the seeds (`model_telemetry_export.json`). */
export const modelExportSchema = z.object({
  export_version: z.union([z.string(), z.number()]),
  export_timestamp: z.string().nullish(),
  client_id: z.string().nullish(),
  events: z.array(
    z.looseObject({ event_type: z.string().min(1), client_id: z.string().nullish(), timestamp: z.string().nullish() }),
  ),
});

export type BodyShape = "event" | "array" | "events_object" | "ndjson" | "export";

/** An event of a body that was not taken, by its position in the body, and why. */
export const rejectionSchema = z.object({ index: z.number().int().nonnegative(), issues: z.array(issueSchema) });
export type Rejection = z.output<typeof rejectionSchema>;

/** One event of a body, by its position: the value to validate, or why it could not be read. */
export type BatchItem = { index: number; value: unknown } | Rejection;

export interface Batch {
  shape: BodyShape;
  items: BatchItem[];
}

export function isSupportedMediaType(mediaType: string): boolean {
  return JSON_MEDIA_TYPES.has(mediaType) || NDJSON_MEDIA_TYPES.has(mediaType);
}

/**
 * The events of a request body (throws InputError when it holds none that can be read): one event object, a JSON array of them, `{"events":[…]}`, NDJSON
 * (`application/x-ndjson`, one per line; a line that is not JSON is that event's rejection), or the
 * model-metadata export file, whose events become `model_registration` (their `event_type`) events.
 */
export function readBatch(text: string, mediaType: string): Batch {
  const body = text.replace(/^\uFEFF/, "");
  if (body.trim() === "") {
    throw new InputError(400, "invalid_json", "The body is empty; send an event object, an array of events or NDJSON");
  }
  if (NDJSON_MEDIA_TYPES.has(mediaType)) return counted("ndjson", ndjsonItems(body));

  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new InputError(400, "invalid_json", `The body is not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(value))
    return counted(
      "array",
      value.map((item: unknown, index) => ({ index, value: item })),
    );
  // Not an object: refused as an event, with the reason among the event's issues.
  if (typeof value !== "object" || value === null) return { shape: "event", items: [{ index: 0, value }] };
  if (Object.hasOwn(value, "export_version")) {
    const file = modelExportSchema.safeParse(value);
    if (!file.success) {
      throw new InputError(
        400,
        "invalid_export",
        `The export file does not match its format: ${describeIssues(issuesOf(file.error.issues))}`,
      );
    }
    return counted(
      "export",
      file.data.events.map((event, index) => ({ index, value: fromExport(event, file.data) })),
    );
  }
  const { events } = value as { events?: unknown };
  if (Object.hasOwn(value, "events") && Array.isArray(events)) {
    return counted(
      "events_object",
      events.map((item: unknown, index) => ({ index, value: item })),
    );
  }
  return { shape: "event", items: [{ index: 0, value }] };
}

function ndjsonItems(body: string): BatchItem[] {
  // An event's index counts events; its message names the line of the body, blank lines included.
  const lines = body
    .split(/\r?\n/)
    .map((line, number) => ({ line, number: number + 1 }))
    .filter(({ line }) => line.trim() !== "");
  return lines.map(({ line, number }, index) => {
    try {
      return { index, value: JSON.parse(line) as unknown };
    } catch (error) {
      return {
        index,
        issues: [{ path: "body", message: `line ${number} is not valid JSON: ${(error as Error).message}` }],
      };
    }
  });
}

function counted(shape: BodyShape, items: BatchItem[]): Batch {
  if (items.length === 0) throw new InputError(400, "no_events", "The body holds no events");
  if (items.length > MAX_EVENTS_PER_REQUEST) {
    throw new InputError(
      413,
      "too_many_events",
      `The body holds ${items.length} events; the limit is ${MAX_EVENTS_PER_REQUEST} per request`,
      { limit: "events_per_request" },
    );
  }
  return { shape, items };
}

/** An export event as the envelope it stands for: its fields become the metadata, as in a `model_registration` event. */
function fromExport(
  event: z.output<typeof modelExportSchema>["events"][number],
  file: z.output<typeof modelExportSchema>,
): unknown {
  const { event_type, ...fields } = event;
  return {
    hwid: event.client_id ?? file.client_id,
    event_name: event_type,
    app_version: EXPORT_APP_VERSION,
    ...(clientTimestampSchema.safeParse(event.timestamp).success ? { timestamp: event.timestamp } : {}),
    metadata: fields,
  };
}
