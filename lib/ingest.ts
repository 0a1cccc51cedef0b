import { v7 as uuidv7 } from "uuid";
import { clientIp } from "./client-ip.ts";
import { ENVELOPE_KEYS, telemetryEventSchema, toStoredEvent } from "./event.ts";
import { errorResponse, jsonResponse, methodNotAllowed } from "./http.ts";
import { log } from "./log.ts";
import { BodyTooLargeError, readBodyCapped } from "./read-body.ts";
import type { Runtime } from "./runtime.ts";
import { appendEvents, DEFAULT_RETRY_AFTER_SECONDS, StoreUnavailableError } from "./store.ts";

export const MAX_BODY_BYTES = 1024 * 1024;
/** The real client gives up after 5 s and sends again; answer well before, leaving room for the network. */
export const STORE_DEADLINE_MS = 4000;
/** How long to tell a client to wait while storage is not configured: an operator has to act. */
const NOT_CONFIGURED_RETRY_AFTER_SECONDS = 60;
/** `sendBeacon` can only send text/plain; a client that sets no type is read as JSON too. */
const ACCEPTED_MEDIA_TYPES = new Set(["application/json", "text/plain", ""]);

export interface IngestContext {
  runtime: Runtime;
  /** The platform's verified client address, when it gives one. */
  platformIp?: string;
  now?: () => Date;
  /** With the spool: starts a flush (see FlushWaker); awaited, so that a platform that freezes after the answer has sent it. */
  startFlush?: () => Promise<void>;
}

/**
 * POST /api/v1/telemetry: validate one event and keep it durably (in the spool, or with the spool
 * off in the store itself); answer 201 only once it is kept. With the spool, the answer waits for
 * Netlify Blobs only: a flush is woken to carry the event to GitHub, and the client never waits on it.
 */
export async function handleTelemetryRequest(request: Request, context: IngestContext): Promise<Response> {
  const receivedAt = context.now?.() ?? new Date();
  const deadline = Date.now() + STORE_DEADLINE_MS;
  if (request.method !== "POST") return methodNotAllowed(["POST"]);

  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!ACCEPTED_MEDIA_TYPES.has(mediaType)) {
    return errorResponse(415, {
      error: "unsupported_media_type",
      message: `Content-Type ${mediaType} is not accepted; send application/json or text/plain`,
    });
  }

  const parsed = await parseJsonBody(request);
  if (!parsed.ok) return parsed.response;

  const result = telemetryEventSchema.safeParse(parsed.value);
  if (!result.success) {
    return errorResponse(400, {
      error: "invalid_event",
      message: "The event does not match the schema",
      issues: result.error.issues.map((issue) => ({
        path: issue.path.length > 0 ? issue.path.join(".") : "body",
        message: issue.message,
      })),
    });
  }

  const { runtime } = context;
  if (!runtime.ok) {
    log("error", "storage_not_configured", { message: runtime.error.message });
    return errorResponse(
      503,
      { error: "storage_not_configured", message: "The telemetry store is not configured; nothing was stored" },
      { "retry-after": String(NOT_CONFIGURED_RETRY_AFTER_SECONDS) },
    );
  }

  const event = toStoredEvent(result.data, {
    eventId: uuidv7(),
    createdAt: receivedAt,
    ip: clientIp(request, context.platformIp),
  });
  try {
    if (runtime.spool) await runtime.spool.spool.add([event]);
    else await appendEvents(runtime.store, [event], { deadline });
  } catch (error) {
    const retryAfter = error instanceof StoreUnavailableError ? error.retryAfterSeconds : DEFAULT_RETRY_AFTER_SECONDS;
    log("warn", "event_not_stored", { reason: error instanceof Error ? error.message : String(error), retry_after_s: retryAfter });
    return errorResponse(
      503,
      { error: "storage_unavailable", message: "The event could not be stored now; send it again later" },
      { "retry-after": String(retryAfter) },
    );
  }

  if (runtime.spool && context.startFlush) {
    // The event is kept whatever happens here; a flush missed now is made by the next event's or the schedule's.
    await runtime.spool.wake(context.startFlush).catch((error: unknown) =>
      log("warn", "flush_not_woken", { reason: error instanceof Error ? error.message : String(error) }),
    );
  }

  const ignored = Object.keys(parsed.value as object).filter((key) => !ENVELOPE_KEYS.includes(key));
  return jsonResponse(201, { status: "success", event_id: event.event_id, ...(ignored.length > 0 ? { ignored_fields: ignored } : {}) });
}

type ParsedBody = { ok: true; value: unknown } | { ok: false; response: Response };

async function parseJsonBody(request: Request): Promise<ParsedBody> {
  let bytes: Uint8Array;
  try {
    bytes = await readBodyCapped(request, MAX_BODY_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    return { ok: false, response: errorResponse(413, { error: "payload_too_large", message: error.message }) };
  }
  const invalid = (message: string): ParsedBody => ({
    ok: false,
    response: errorResponse(400, { error: "invalid_json", message }),
  });
  if (bytes.byteLength === 0) return invalid("The body is empty; send one JSON event object");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return invalid("The body is not valid UTF-8");
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return invalid(`The body is not valid JSON: ${(error as Error).message}`);
  }
}
