import { anonymizeIp } from "../events/anonymize-ip.ts";
import { hasSecret, unauthorized } from "./check-secret.ts";
import { clientIp } from "./client-ip.ts";
import { corsHeaders, preflightResponse } from "./cors.ts";
import {
  BodyTooLargeError,
  decodeBody,
  MalformedBodyError,
  MAX_DECODED_BYTES,
  MAX_WIRE_BYTES,
  UnsupportedEncodingError,
} from "./decode-body.ts";
import type { StoredEvent } from "../events/event.ts";
import { errorResponse, jsonResponse, methodNotAllowed } from "./responses.ts";
import { log, messageOf } from "../log.ts";
import { prepareEvent, type Issue } from "../events/prepare-event.ts";
import { isSupportedMediaType, readBatch } from "../events/read-batch.ts";
import type { Runtime } from "../runtime.ts";
import { appendEvents, DEFAULT_RETRY_AFTER_SECONDS, StoreUnavailableError } from "../storage/store.ts";

/** The real client gives up after 5 s and sends again; answer well before, leaving room for the network. */
export const STORE_DEADLINE_MS = 4000;
/** How long to tell a client to wait while storage is not configured: an operator has to act. */
const NOT_CONFIGURED_RETRY_AFTER_SECONDS = 60;
/** An Idempotency-Key is 1 to 255 visible ASCII characters (as Stripe's and the IETF draft's are). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface IngestContext {
  runtime: Runtime;
  /** The platform's verified client address, when it gives one. */
  platformIp?: string;
  now?: () => Date;
  /** With the spool: starts a flush (see FlushWaker); awaited, so that a platform that freezes after the answer has sent it. */
  startFlush?: () => Promise<void>;
  /**
   * The platform already undid the request's Content-Encoding (`netlify dev`'s functions server
   * does): the body is read as is, within the decompressed size limit.
   */
  bodyDecoded?: boolean;
}

/** What a 201 says: how many events were taken, and why the others were not. */
export interface IngestAnswer {
  status: "success";
  /** Events taken: stored, already stored (a replayed event_id), or of a dropped client type. */
  accepted: number;
  /** Events taken that were already stored or sent twice in this request. */
  duplicates?: number;
  rejected: { index: number; issues: Issue[] }[];
  /** For a single-event body: the stored event's id. */
  event_id?: string;
  /** For a single-event body: top-level keys the envelope does not define, which were not stored. */
  ignored_fields?: string[];
}

/**
 * POST /api/v1/telemetry: read one event or a batch (JSON, NDJSON, compressed or not), validate each
 * event, and keep the valid ones durably (in the spool, or with the spool off in the store itself);
 * answer 201 only once they are kept. With the spool, the answer waits for Netlify Blobs only: a
 * flush is woken to carry the events to GitHub, and the client never waits on it.
 */
export async function handleTelemetryRequest(request: Request, context: IngestContext): Promise<Response> {
  const receivedAt = context.now?.() ?? new Date();
  const deadline = Date.now() + STORE_DEADLINE_MS;
  const { runtime } = context;
  const cors = runtime.ok ? corsHeaders(request, runtime.ingest.allowedOrigins) : {};
  const fail = (
    status: number,
    error: string,
    message: string,
    details: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) => errorResponse(status, { error, message, ...details }, { ...cors, ...headers });

  if (request.method === "OPTIONS") return preflightResponse(request, runtime.ok ? runtime.ingest.allowedOrigins : []);
  if (request.method !== "POST") return withHeaders(methodNotAllowed(["POST", "OPTIONS"]), cors);
  if (!runtime.ok) {
    log("error", "storage_not_configured", { message: runtime.error.message });
    return fail(
      503,
      "storage_not_configured",
      "The telemetry store is not configured; nothing was stored",
      {},
      {
        "retry-after": String(NOT_CONFIGURED_RETRY_AFTER_SECONDS),
      },
    );
  }
  const { ingest } = runtime;
  if (ingest.secret !== undefined && !hasSecret(request, ingest.secret)) {
    return unauthorized(cors);
  }

  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!isSupportedMediaType(mediaType)) {
    return fail(
      415,
      "unsupported_media_type",
      `Content-Type ${mediaType} is not accepted; send application/json, application/x-ndjson or text/plain`,
    );
  }
  const idempotencyKey = request.headers.get("idempotency-key") ?? undefined;
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    return fail(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters");
  }

  let text: string;
  try {
    const body = context.bodyDecoded
      ? await decodeBody(withoutEncoding(request), { wireBytes: MAX_DECODED_BYTES, decodedBytes: MAX_DECODED_BYTES })
      : await decodeBody(request, { wireBytes: MAX_WIRE_BYTES, decodedBytes: MAX_DECODED_BYTES });
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      // A body the platform inflated is the decompressed body: the limit it passed is the decoded one.
      const over = context.bodyDecoded ? new BodyTooLargeError("decoded_bytes", error.maxBytes) : error;
      return fail(413, "payload_too_large", over.message, { limit: over.limit, max_bytes: over.maxBytes });
    }
    if (error instanceof UnsupportedEncodingError) return fail(415, "unsupported_encoding", error.message);
    if (error instanceof MalformedBodyError) return fail(400, "malformed_body", error.message);
    if (error instanceof TypeError) return fail(400, "invalid_json", "The body is not valid UTF-8");
    throw error;
  }
  const batch = readBatch(text, mediaType);
  if (!batch.ok) return fail(batch.status, batch.error, batch.message, batch.limit ? { limit: batch.limit } : {});
  if (idempotencyKey !== undefined && batch.shape !== "event") {
    return fail(
      400,
      "invalid_idempotency_key",
      "Idempotency-Key applies to a single-event body; give each event of a batch its own event_id",
    );
  }

  const ip = anonymizeIp(clientIp(request, context.platformIp), ingest.ipMode, ingest.ipSalt);
  const kept: StoredEvent[] = [];
  const keptIds = new Set<string>();
  const clientIds: string[] = [];
  const dropped = new Map<string, number>();
  const rejected: IngestAnswer["rejected"] = [];
  let duplicates = 0;
  let ignored: string[] = [];
  for (const item of batch.items) {
    if ("issues" in item) {
      rejected.push(item);
      continue;
    }
    const prepared = prepareEvent(item.value, { ingest, receivedAt, ip, idempotencyKey });
    if (prepared.kind === "rejected") rejected.push({ index: item.index, issues: prepared.issues });
    else if (prepared.kind === "dropped") dropped.set(prepared.clientType, (dropped.get(prepared.clientType) ?? 0) + 1);
    else if (keptIds.has(prepared.event.event_id)) duplicates += 1;
    else {
      kept.push(prepared.event);
      keptIds.add(prepared.event.event_id);
      if (prepared.clientId) clientIds.push(prepared.event.event_id);
      ignored = prepared.ignored;
    }
  }
  const droppedCount = [...dropped.values()].reduce((total, n) => total + n, 0);
  if (kept.length === 0 && droppedCount === 0) {
    const single = batch.shape === "event";
    return fail(
      400,
      single ? "invalid_event" : "invalid_events",
      single ? "The event does not match the schema" : "No event of the batch is valid",
      single ? { issues: rejected[0]?.issues ?? [], rejected } : { rejected },
    );
  }

  try {
    if (runtime.spool)
      await runtime.spool.spool.add(kept, { client_ids: clientIds, dropped: Object.fromEntries(dropped) });
    else if (kept.length > 0) await appendEvents(runtime.store, kept, { deadline });
  } catch (error) {
    const retryAfter = error instanceof StoreUnavailableError ? error.retryAfterSeconds : DEFAULT_RETRY_AFTER_SECONDS;
    log("warn", "event_not_stored", {
      reason: messageOf(error),
      retry_after_s: retryAfter,
    });
    return fail(
      503,
      "storage_unavailable",
      "The events could not be stored now; send them again later",
      {},
      { "retry-after": String(retryAfter) },
    );
  }

  if (runtime.spool && context.startFlush) {
    // The events are kept whatever happens here; a flush missed now is made by the next request's or the schedule's.
    await runtime.spool
      .wake(context.startFlush)
      .catch((error: unknown) => log("warn", "flush_not_woken", { reason: messageOf(error) }));
  }

  const answer: IngestAnswer = { status: "success", accepted: kept.length + duplicates + droppedCount, rejected };
  if (duplicates > 0) answer.duplicates = duplicates;
  if (batch.shape === "event") {
    if (kept[0]) answer.event_id = kept[0].event_id;
    if (ignored.length > 0) answer.ignored_fields = ignored;
  }
  return jsonResponse(201, answer, cors);
}

function withoutEncoding(request: Request): Request {
  const headers = new Headers(request.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Request(request, { headers });
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}
