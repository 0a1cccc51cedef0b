/**
 * Sends a request plan to the ingest endpoint: builds the request (fresh event ids, the body
 * damaged, encoded and compressed as planned, the headers), checks that the answer is never a
 * 5xx and has its documented shape, and has the ledger set it against what was stored.
 */
import { createHash } from "node:crypto";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { expect } from "vitest";
import { MAX_DECODED_BYTES, MAX_WIRE_BYTES } from "../../lib/http/decode-body.ts";
import { ingest } from "../../lib/http/endpoints/ingest.ts";
import type { Runtime } from "../../lib/runtime.ts";
import { compressed, damaged, encoded, type RequestPlan } from "./arbitraries.ts";
import type { Ledger } from "./ledger.ts";

/** The handler is called directly: the host is only a name. */
export const URL = "http://localhost/api/v1/telemetry";

/**
 * Event ids. A body names them by marker; each request turns the markers into ids no earlier
 * request used, so that an accepted event is never a replay of an earlier one and every 201 says
 * exactly how many lines it stored. Within one request, @@S<n>@@ and @@U<n>@@ (the same id in
 * upper case) stand for one id: duplicates the answer must count.
 */
const ID_MARKER = /@@([FSU])(\d)?@@/g;

/** Bodies past the size limits, built once. */
const OVERSIZED_BODIES: { bytes: Uint8Array; encoding: string | undefined }[] = [
  {
    bytes: Buffer.from(
      `{"hwid":"h","event_name":"e","app_version":"1","metadata":{"a":"${"x".repeat(MAX_WIRE_BYTES)}"}}`,
    ),
    encoding: undefined,
  },
  {
    bytes: gzipSync(
      Buffer.from(
        `{"hwid":"h","event_name":"e","app_version":"1","metadata":{"a":"${"x".repeat(MAX_DECODED_BYTES)}"}}`,
      ),
    ),
    encoding: "gzip",
  },
  { bytes: gzipSync(gzipSync(Buffer.alloc(MAX_DECODED_BYTES * 4, 0x20))), encoding: "gzip, gzip" },
  { bytes: brotliCompressSync(Buffer.alloc(MAX_DECODED_BYTES + 1, 0x5b)), encoding: "br" },
];

let idCounter = 0;

/** A valid v4 UUID that no earlier call gave: a counter's hash, so that a seed replays a run with the same ids. */
export function freshId(): string {
  idCounter += 1;
  const hex = createHash("sha256").update(`fuzz-event-${idCounter}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The body's text with its markers turned into ids. */
function withIds(text: string): string {
  const shared = new Map<string, string>();
  return text.replace(ID_MARKER, (_marker, kind: string, n = "0") => {
    if (kind === "F") return freshId();
    const id = shared.get(n) ?? freshId();
    shared.set(n, id);
    return kind === "U" ? id.toUpperCase() : id;
  });
}

interface Built {
  request: Request;
  /** How many events of the body could be of a dropped client type: an upper bound on those answered and not stored. */
  droppable: number;
}

/** The request a plan describes; an Idempotency-Key of @@KEY@@ becomes a key no earlier request sent. */
function build(plan: RequestPlan): Built {
  let bytes: Uint8Array;
  let droppable = 0;
  let coding = plan.coding;
  if ("text" in plan.body) {
    const text = damaged(withIds(plan.body.text), plan.body.damage);
    droppable = text.split('"unit-tests"').length - 1;
    bytes = encoded(text, plan.body.encoding);
  } else if ("bytes" in plan.body) {
    bytes = plan.body.bytes;
  } else {
    const oversized = OVERSIZED_BODIES[plan.body.oversized % OVERSIZED_BODIES.length]!;
    bytes = oversized.bytes;
    coding = { header: oversized.encoding, applied: "none" };
  }
  const headers = new Headers();
  const fitting = "text" in plan.body && plan.body.ndjson ? "application/x-ndjson" : "application/json";
  if (plan.contentType !== undefined)
    headers.set("content-type", plan.contentType === "FIT" ? fitting : plan.contentType);
  if (coding.header !== undefined) headers.set("content-encoding", coding.header);
  if (plan.idempotencyKey !== undefined)
    headers.set("idempotency-key", plan.idempotencyKey === "@@KEY@@" ? `key-${freshId()}` : plan.idempotencyKey);
  for (const [name, value] of plan.headers) headers.append(name, value);
  const method = plan.method;
  const hasBody = method.toUpperCase() !== "GET" && method.toUpperCase() !== "HEAD";
  // A platform that decodes bodies itself hands them over inflated, with the header as sent.
  const body = hasBody ? (plan.bodyDecoded ? bytes : compressed(bytes, coding.applied, plan.garbage)) : undefined;
  const request = new Request(URL, { method, headers, body, duplex: "half" } as RequestInit);
  return { request, droppable };
}

/** Sends the plan, checks the answer and what was stored, and says what came back. */
export async function send(
  plan: RequestPlan,
  { runtime, ledger }: { runtime: Runtime; ledger: Ledger },
): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const { request, droppable } = build(plan);
  const method = request.method;
  let response: Response;
  try {
    response = await ingest(request, {
      runtime,
      platformIp: plan.platformIp,
      bodyDecoded: plan.bodyDecoded,
    });
  } catch (error) {
    // A throw is a 500 from the platform.
    throw new Error(`ingest threw: ${error instanceof Error ? error.stack : String(error)}`);
  }
  const { status } = response;
  expect(status).toBeGreaterThanOrEqual(200);
  expect(status).toBeLessThan(500);

  let body: Record<string, unknown> | undefined;
  if (status === 204) {
    expect(method).toBe("OPTIONS");
    expect(await response.text()).toBe("");
  } else {
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    body = JSON.parse(await response.text()) as Record<string, unknown>;
    expect(["success", "error"]).toContain(body.status);
  }

  await ledger.settle(status, body, droppable);
  if (status >= 400) {
    expect(body!.status).toBe("error");
    expect(typeof body!.error).toBe("string");
    expect(typeof body!.message).toBe("string");
  }
  return { status, body };
}
