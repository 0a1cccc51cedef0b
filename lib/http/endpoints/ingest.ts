import type { z } from "zod";
import { anonymizeIp } from "../../events/anonymize-ip.ts";
import { InputError } from "../../events/input-error.ts";
import { isSupportedMediaType, readBatch, type Batch, type Rejection } from "../../events/read-batch.ts";
import { sortEvents, type SortedEvents } from "../../events/sort-events.ts";
import { log, messageOf } from "../../log.ts";
import type { Runtime } from "../../runtime.ts";
import { appendEvents, DEFAULT_RETRY_AFTER_SECONDS, StoreUnavailableError } from "../../storage/event-store.ts";
import type { successAnswerSchema } from "./schema-documents.ts";
import { callerCountry } from "../caller-country.ts";
import { clientIp } from "../client-ip.ts";
import { BodyTooLargeError, decodeBody, MAX_DECODED_BYTES, MAX_WIRE_BYTES } from "../decode-body.ts";
import { defineEndpoint, type ReadyRuntime } from "../define-endpoint.ts";
import { HttpError } from "../http-error.ts";
import { jsonResponse } from "../json-response.ts";

/**
 * The one path the endpoint answers on: the `netlify.toml` redirect that carries Netlify's rate
 * limit. A function is also reachable at `/.netlify/functions/<name>`, where no rule applies; a
 * rewrite keeps the path the client asked for, so a request arriving under any other path came
 * around the limit.
 */
const INGEST_PATH = "/api/v1/telemetry";
/** The real client gives up after 5 s and sends again; answer well before, leaving room for the network. */
const STORE_DEADLINE_MS = 4000;
/** An Idempotency-Key is 1 to 255 visible ASCII characters (as Stripe's and the IETF draft's are). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface IngestContext {
  runtime: Runtime;
  /** The platform's verified client address, when it gives one. */
  platformIp?: string | undefined;
  /** With the spool: starts a flush (see FlushWaker); awaited, so that a platform that freezes after the answer has sent it. */
  startFlush?: (() => Promise<void>) | undefined;
  /**
   * The platform already undid the request's Content-Encoding (`netlify dev`'s functions server
   * does): the body is read as is, within the decompressed size limit.
   */
  bodyDecoded?: boolean;
}

type IngestAnswer = z.output<typeof successAnswerSchema>;

/**
 * POST /api/v1/telemetry: read one event or a batch (JSON, NDJSON, compressed or not), validate each
 * event, and keep the valid ones durably (in the spool, or with the spool off in the store itself);
 * answer 201 only once they are kept. With the spool, the answer waits for Netlify Blobs only: a
 * flush is woken to carry the events to GitHub, and the client never waits on it.
 */
export const ingest = defineEndpoint<IngestContext>({
  path: { matches: (pathname) => pathname === INGEST_PATH, elsewhere: `Send events to POST ${INGEST_PATH}` },
  methods: ["POST"],
  preflight: ["POST", "OPTIONS"],
  caller: "client",
  handle: (request, runtime, context, cors) => takeEvents(request, context, runtime, cors),
});

/** Reads, sorts and keeps a request's events; bad input is thrown as InputError, answered by the endpoint. */
async function takeEvents(
  request: Request,
  context: IngestContext,
  runtime: ReadyRuntime,
  cors: Record<string, string>,
): Promise<Response> {
  const receivedAt = runtime.clock.now();
  const { mediaType, idempotencyKey } = readHeaders(request);
  const batch = readBatch(await readText(request, context.bodyDecoded ?? false), mediaType);
  if (idempotencyKey !== undefined && batch.shape !== "event") {
    throw new InputError(
      400,
      "invalid_idempotency_key",
      "Idempotency-Key applies to a single-event body; give each event of a batch its own event_id",
    );
  }
  const { ingest: config } = runtime;
  const ip = anonymizeIp(clientIp(request, context.platformIp), config.ipMode, config.ipSalt);
  // Whatever the IP mode keeps: the edge placed the caller, no address is needed.
  const country = config.geo ? callerCountry(request) : null;
  const sorted = sortEvents(batch.items, {
    ingest: config,
    receivedAt: new Date(receivedAt),
    ip,
    country,
    idempotencyKey,
  });
  if (sorted.kept.length === 0 && countOf(sorted.dropped) === 0) throw noValidEvent(batch, sorted.rejected);

  try {
    await keep(runtime, sorted, receivedAt + STORE_DEADLINE_MS);
  } catch (error) {
    const retryAfter = error instanceof StoreUnavailableError ? error.retryAfterSeconds : DEFAULT_RETRY_AFTER_SECONDS;
    log("warn", "event_not_stored", { reason: messageOf(error), retry_after_s: retryAfter });
    throw new HttpError(503, "storage_unavailable", "The events could not be stored now; send them again later", {
      headers: { "retry-after": String(retryAfter) },
    });
  }
  if (runtime.spool && context.startFlush) {
    // The events are kept whatever happens here; a flush missed now is made by the next request's or the schedule's.
    await runtime.spool
      .wake(context.startFlush)
      .catch((error: unknown) => log("warn", "flush_not_woken", { reason: messageOf(error) }));
  }
  return jsonResponse(201, answerOf(batch, sorted), cors);
}

function readHeaders(request: Request): { mediaType: string; idempotencyKey: string | undefined } {
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!isSupportedMediaType(mediaType)) {
    throw new InputError(
      415,
      "unsupported_media_type",
      `Content-Type ${mediaType} is not accepted; send application/json, application/x-ndjson or text/plain`,
    );
  }
  const idempotencyKey = request.headers.get("idempotency-key") ?? undefined;
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new InputError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters");
  }
  return { mediaType, idempotencyKey };
}

/**
 * The body as text, decompressed within the limits. A body the platform inflated (it came with a
 * Content-Encoding) is held to the decompressed limit only; one that came uncompressed is what was
 * on the wire, and is held to the wire limit as anywhere else.
 */
async function readText(request: Request, bodyDecoded: boolean): Promise<string> {
  const coding = (request.headers.get("content-encoding") ?? "").trim().toLowerCase();
  const inflated = bodyDecoded && coding !== "" && coding !== "identity";
  const body = await decodeBody(inflated ? withoutEncoding(request) : request, {
    wireBytes: inflated ? MAX_DECODED_BYTES : MAX_WIRE_BYTES,
    decodedBytes: MAX_DECODED_BYTES,
  }).catch((error: unknown) => {
    if (inflated && error instanceof BodyTooLargeError) throw new BodyTooLargeError("decoded_bytes", error.maxBytes);
    throw error;
  });
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch (error) {
    throw new InputError(400, "invalid_json", "The body is not valid UTF-8", {}, { cause: error });
  }
}

function noValidEvent(batch: Batch, rejected: Rejection[]): InputError {
  return batch.shape === "event"
    ? new InputError(400, "invalid_event", "The event does not match the schema", {
        issues: rejected[0]?.issues ?? [],
        rejected,
      })
    : new InputError(400, "invalid_events", "No event of the batch is valid", { rejected });
}

/** Keeps the events durably: in the spool, or with the spool off in the store itself. */
async function keep(runtime: ReadyRuntime, sorted: SortedEvents, deadline: number): Promise<void> {
  if (runtime.spool) {
    await runtime.spool.spool.add(sorted.kept, { client_ids: sorted.clientIds, dropped: sorted.dropped });
  } else if (sorted.kept.length > 0) {
    await appendEvents(runtime.store, sorted.kept, { deadline });
  }
}

function answerOf(batch: Batch, sorted: SortedEvents): IngestAnswer {
  const { kept, duplicates, dropped, rejected, ignored } = sorted;
  const answer: IngestAnswer = { status: "success", accepted: kept.length + duplicates + countOf(dropped), rejected };
  if (duplicates > 0) answer.duplicates = duplicates;
  if (batch.shape === "event") {
    if (kept[0]) answer.event_id = kept[0].event_id;
    if (ignored.length > 0) answer.ignored_fields = ignored;
  }
  return answer;
}

function countOf(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((total, n) => total + n, 0);
}

function withoutEncoding(request: Request): Request {
  const headers = new Headers(request.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Request(request, { headers });
}
