/**
 * Property-based tests of the ingest endpoint against a real local store: malformed JSON, wrong
 * types, huge and deep values, odd encodings and odd headers must never give a 5xx, never store an
 * invalid record, and every stored line must stay valid.
 *
 * FUZZ_SEED=<integer> replays a run; without it fast-check picks a seed, which a failure prints
 * with its counterexample (and the path to replay it). FUZZ_STATS=1 prints how the answers spread.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach } from "vitest";
import { describe, expect, it } from "./support/fixtures.ts";
import { loadConfig } from "../lib/config.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { checkShape, SHAPE_LIMITS } from "../lib/events/check-shape.ts";
import { createRuntime, type Runtime } from "../lib/runtime.ts";
import { scrubMetadata } from "../lib/events/scrub-metadata.ts";
import { envelopePlan, rawBody, requestPlan, textBody, type RequestPlan } from "./fuzz/arbitraries.ts";
import { Ledger } from "./fuzz/ledger.ts";
import { freshId, send, URL } from "./fuzz/send.ts";

const SEED = process.env.FUZZ_SEED ? Number.parseInt(process.env.FUZZ_SEED, 10) : undefined;
/** Generous: the whole file runs in well under a minute on two cores. */
const PROPERTY_TIMEOUT_MS = 180_000;

let dir: string;
let runtime: Runtime;
let ledger: Ledger;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "telemetry-fuzz-"));
  runtime = createRuntime(loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SPOOL: "off" }));
  ledger = new Ledger(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/**
 * One property: `numRuns` plans sent one by one (each answer checked, and what it stored), then
 * the whole store read again; `stats` names it in FUZZ_STATS's report.
 */
function property(
  name: string,
  { plans, numRuns, stats }: { plans: fc.Arbitrary<RequestPlan>; numRuns: number; stats: string },
): void {
  it(
    name,
    async () => {
      await fc.assert(
        fc.asyncProperty(plans, async (plan) => {
          await send(plan, { runtime, ledger });
        }),
        { numRuns, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      await ledger.verifyAll();
      ledger.report(stats);
    },
    PROPERTY_TIMEOUT_MS,
  );
}

// ---------------------------------------------------------------------------------------------
// The properties.
// ---------------------------------------------------------------------------------------------

describe("fuzzed requests: never a 5xx, never an invalid record, every stored line valid", () => {
  property("JSON, batch, NDJSON and export bodies, damaged, re-encoded and compressed, with odd headers", {
    plans: requestPlan(textBody),
    numRuns: 6500,
    stats: "structured",
  });
  property("random bytes, hostile texts and bodies past the size limits", {
    plans: requestPlan(rawBody),
    numRuns: 2500,
    stats: "raw",
  });
  property("valid envelopes around metadata's limits and redaction, and client timestamps at the calendar's edges", {
    plans: envelopePlan,
    numRuns: 1500,
    stats: "envelopes",
  });
});

describe("what the fuzz found", () => {
  const event = (fields: Record<string, unknown>) =>
    JSON.stringify({ event_id: freshId(), hwid: "h", event_name: "app_launch", app_version: "1.2.3", ...fields });
  const post = (text: string, idempotencyKey?: string) =>
    send(
      {
        method: "POST",
        body: { text, damage: { kind: "none" }, encoding: { kind: "utf8" } },
        coding: { header: undefined, applied: "none" },
        garbage: new Uint8Array(),
        contentType: "application/json",
        idempotencyKey,
        headers: [],
        platformIp: "203.0.113.7",
        bodyDecoded: false,
      },
      { runtime, ledger },
    );

  it("takes an Idempotency-Key with an hwid holding a lone surrogate, and derives the same id when it is sent again", async () => {
    const text = JSON.stringify({ hwid: "\udfff ", event_name: "app_launch", app_version: "1.2.3" });
    const first = await post(text, "retry-1");
    expect(first.status).toBe(201);
    expect(first.body!.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const again = await ingest(
      new Request(URL, {
        method: "POST",
        body: text,
        headers: { "content-type": "application/json", "idempotency-key": "retry-1" },
      }),
      { runtime },
    );
    expect(again.status).toBe(201);
    expect((await again.json()).event_id).toBe(first.body!.event_id);
    expect(await ledger.newLines()).toEqual([]);
    expect(ledger.lines).toBe(1);
  });

  it.each([
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T12:00-12:00",
    "0000-01-01T00:00:00+01:00",
    "0000-01-01T00:30+00:31",
  ])("refuses a client timestamp %s that is out of the four-digit years once in UTC", async (timestamp) => {
    const { status, body } = await post(event({ timestamp }));
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_event", issues: [{ path: "timestamp" }] });
  });

  it("still stores client timestamps at the edges of the four-digit years", async () => {
    for (const timestamp of [
      "9999-12-31T23:59:59.999Z",
      "9999-12-31T22:59:59+23:00",
      "0000-01-01T00:00:00Z",
      "0000-01-01T00:00:00-01:00",
    ]) {
      expect((await post(event({ timestamp }))).status).toBe(201);
    }
    expect(ledger.lines).toBe(4);
  });

  it.each([
    ["home folders", "/home/a"],
    ["e-mail addresses", "a@b.cd "],
    ["Windows user folders", "C:\\Users\\c\\"],
  ])("keeps metadata within the string limit when redacting %s lengthens it", async (_name, unit) => {
    const text = unit.repeat(Math.floor(SHAPE_LIMITS.maxStringLength / unit.length));
    expect((await post(event({ metadata: { traceback: text } }))).status).toBe(201);
    const record = await ledger.lastRecord();
    expect(record.redactions).toBeGreaterThan(0);
    expect(checkShape(record.metadata)).toEqual([]);
    expect(checkShape(scrubMetadata({ traceback: text }).metadata)).toEqual([]);
  });
});
