import { pseudonymizeHwid } from "../lib/events/pseudonymize-hwid.ts";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock, type Clock } from "../lib/clock.ts";
import { ConfigError, loadConfig } from "../lib/config.ts";
import { storedEventSchema, type StoredEvent } from "../lib/events/stored-event.ts";
import { reportHealth } from "../lib/http/report-health.ts";
import { ingest } from "../lib/http/ingest.ts";
import { createRuntime, type Runtime } from "../lib/runtime.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };
import { startBlobs, type LocalBlobs } from "./support/blobs.ts";
import { expectError } from "./support/answers.ts";

/*
 * The ingest protocol as a client sees it, end to end: a real configuration, the local folder store
 * and, where the spool matters, `@netlify/blobs`' own server in front of it.
 */

const ENDPOINT = "http://localhost/api/v1/telemetry";
const KIB = 1024;
const MIB = 1024 * KIB;
const SECRET = "shared-secret-for-protocol-tests";
const ORIGIN = "https://app.example.com";
const CLIENT_ID = "0f8fad5b-d9cb-469f-a165-70867728950e";
const UNPACED = { perMinute: 10_000, perHour: 100_000 };

type Ready = Runtime & { ok: true };

let dir: string;
let blobs: LocalBlobs | undefined;
let runtime: Ready;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "telemetry-protocol-"));
  await use();
});
afterEach(async () => {
  await blobs?.close();
  blobs = undefined;
  await rm(dir, { recursive: true, force: true });
});

/**
 * Makes `runtime` one over this test's folder, with `env` on top: the spool off (every request
 * writes to the folder), or on, backed by a Blobs server started for the test. Writes are not paced.
 */
async function use(
  env: Record<string, string> = {},
  { spool = false, clock = systemClock, maxFileBytes }: { spool?: boolean; clock?: Clock; maxFileBytes?: number } = {},
): Promise<Ready> {
  const loaded = loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SPOOL: spool ? "on" : "off", ...env });
  // Past what the environment may set (GitHub's limits, a 64 KiB cap): a test must not wait on the pace,
  // and a part rolls over after a few events.
  const config = {
    ...loaded,
    maxFileBytes: maxFileBytes ?? loaded.maxFileBytes,
    spool: { ...loaded.spool, limits: UNPACED },
  };
  if (spool) blobs ??= await startBlobs();
  runtime = createRuntime(config, spool ? { blobs: blobs!.store(), clock } : { clock }) as Ready;
  return runtime;
}

interface PostOptions {
  headers?: Record<string, string>;
  platformIp?: string;
  bodyDecoded?: boolean;
}

/** POSTs `body` (sent as is when text or bytes, else as JSON) as a client at 203.0.113.7 would. */
function post(body: unknown, { headers = {}, ...context }: PostOptions = {}) {
  const raw = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  return ingest(
    new Request(ENDPOINT, {
      method: "POST",
      body: raw as BodyInit,
      headers: { "content-type": "application/json", ...headers },
    }),
    { runtime, platformIp: "203.0.113.7", ...context },
  );
}

const preflight = (origin: string) =>
  ingest(
    new Request(ENDPOINT, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-telemetry-key",
      },
    }),
    { runtime },
  );

/** Drains the spool into the folder, and checks that it is empty afterwards. */
async function flush(): Promise<void> {
  const report = await runtime.spool!.flush(5000);
  expect(report?.outcome).toBe("idle");
}

/** The stored files, relative to the folder, in the order a listing gives them. */
async function storedFiles(): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

async function storedLines(): Promise<string[]> {
  const texts = await Promise.all((await storedFiles()).map((file) => readFile(join(dir, file), "utf8")));
  return texts.flatMap((text) => text.split("\n").filter(Boolean));
}

/** Every stored line, checked against the documented record format. */
async function stored(): Promise<StoredEvent[]> {
  return (await storedLines()).map((line) => storedEventSchema.parse(JSON.parse(line)));
}

const event = (fields: Record<string, unknown> = {}) => ({
  hwid: "hw-1",
  event_name: "app_launch",
  app_version: "1.2.3",
  ...fields,
});

/** A JSON body of exactly `bytes` bytes: one event, then spaces (which JSON allows after a value). */
function paddedBody(bytes: number): string {
  const text = JSON.stringify(event());
  return text + " ".repeat(bytes - Buffer.byteLength(text));
}

describe("batch shapes", () => {
  it("stores one event object as one line and answers with its event_id", async () => {
    const response = await post(seeds.model_registration);
    expect(response.status).toBe(201);
    const answer = await response.json();
    expect(answer).toEqual({ status: "success", accepted: 1, rejected: [], event_id: expect.any(String) });
    const records = await stored();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ ...seeds.model_registration, event_id: answer.event_id, ip: "203.0.113.7" });
    expect(records[0]!.schema_violations).toBeUndefined();
  });

  const batch = [1, 2, 3].map((n) => event({ metadata: { n } }));
  it.each([
    ["a JSON array", batch],
    ['{"events":[…]}', { events: batch }],
  ])("stores %s event by event, in order", async (_shape, body) => {
    const response = await post(body);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ status: "success", accepted: 3, rejected: [] });
    expect((await stored()).map((record) => record.metadata.n)).toEqual([1, 2, 3]);
  });

  it("reads NDJSON line by line: blank lines are skipped, a line that is not JSON is that event's rejection", async () => {
    const body = [
      JSON.stringify(event({ metadata: { n: 1 } })),
      "",
      "{not json",
      "   ",
      JSON.stringify(event({ metadata: { n: 2 } })),
      "",
    ].join("\r\n");
    const response = await post(body, { headers: { "content-type": "application/x-ndjson" } });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({
      status: "success",
      accepted: 2,
      rejected: [{ index: 1, issues: [{ path: "body", message: expect.stringMatching(/^line 3 is not valid JSON/) }] }],
    });
    expect((await stored()).map((record) => record.metadata.n)).toEqual([1, 2]);

    // The same lines as application/json are one body that is not JSON.
    await expectError(await post(body), 400, "invalid_json");
  });

  it("turns each event of the model-metadata export file into a model_registration event", async () => {
    const file = seeds.model_metadata_export_file;
    const response = await post(file);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ status: "success", accepted: 1, rejected: [] });
    const records = await stored();
    expect(records).toHaveLength(1);
    const { event_type: _type, ...fields } = file.events[0]!;
    expect(records[0]).toMatchObject({
      event_name: "model_registration",
      hwid: "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
      app_version: "unknown",
      client_type: "vector-inspector",
      client_timestamp: "2026-01-23T12:34:56.000Z",
    });
    expect(records[0]!.metadata).toEqual(fields);
    expect(records[0]!.schema_violations).toBeUndefined();
  });

  it("takes an export event's hwid from its own client_id, else from the file's", async () => {
    const [model] = seeds.model_metadata_export_file.events;
    const { client_id: _own, ...anonymous } = model!;
    const response = await post({
      export_version: 1,
      client_id: "file-client",
      events: [{ ...model, client_id: "event-client" }, anonymous],
    });
    expect(await response.json()).toMatchObject({ accepted: 2, rejected: [] });
    expect((await stored()).map((record) => record.hwid)).toEqual(["event-client", "file-client"]);
  });
});

describe("limits", () => {
  const many = (count: number) => Array.from({ length: count }, (_, n) => event({ metadata: { n } }));

  it("accepts 500 events in one request", async () => {
    const response = await post(many(500));
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ status: "success", accepted: 500, rejected: [] });
    expect(await storedLines()).toHaveLength(500);
  });

  it("refuses 501 events with 413 too_many_events, in every batch shape, storing none", async () => {
    const ndjson = many(501)
      .map((item) => JSON.stringify(item))
      .join("\n");
    for (const [body, headers] of [
      [many(501), {}],
      [{ events: many(501) }, {}],
      [ndjson, { "content-type": "application/x-ndjson" }],
    ] as const) {
      const answer = await expectError(await post(body, { headers }), 413, "too_many_events");
      expect(answer.limit).toBe("events_per_request");
    }
    expect(await storedLines()).toEqual([]);
  });

  /** An event whose `JSON.stringify` is exactly `bytes` bytes long (split over two strings, each within the string limit). */
  function eventOfBytes(bytes: number) {
    const base = event({ event_name: "custom.padding", metadata: { a: "", b: "" } });
    const room = bytes - Buffer.byteLength(JSON.stringify(base));
    const first = Math.min(room, 16_384);
    const sized = { ...base, metadata: { a: "a".repeat(first), b: "b".repeat(room - first) } };
    expect(Buffer.byteLength(JSON.stringify(sized))).toBe(bytes);
    return sized;
  }

  it("takes an event of exactly 32 KiB serialized and rejects one a byte larger, storing the rest of the batch", async () => {
    const atLimit = eventOfBytes(32 * KIB);
    const response = await post([atLimit, eventOfBytes(32 * KIB + 1), event({ metadata: { n: 3 } })]);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({
      status: "success",
      accepted: 2,
      rejected: [
        { index: 1, issues: [{ path: "body", message: expect.stringMatching(/32769 bytes.*32768.*event_bytes/) }] },
      ],
    });
    expect((await stored()).map((record) => record.metadata)).toEqual([atLimit.metadata, { n: 3 }]);
  });

  it("takes a body of exactly 1 MiB on the wire and refuses one a byte larger with 413 wire_bytes", async () => {
    expect((await post(paddedBody(MIB))).status).toBe(201);
    const answer = await expectError(await post(paddedBody(MIB + 1)), 413, "payload_too_large");
    expect(answer).toMatchObject({ limit: "wire_bytes", max_bytes: MIB });
    expect(await storedLines()).toHaveLength(1);
  });

  it("takes a gzip body that inflates to exactly 5 MiB and refuses one that inflates past it with 413 decoded_bytes", async () => {
    const gzip = { "content-encoding": "gzip" };
    expect((await post(gzipSync(paddedBody(5 * MIB)), { headers: gzip })).status).toBe(201);
    const answer = await expectError(
      await post(gzipSync(paddedBody(5 * MIB + 1)), { headers: gzip }),
      413,
      "payload_too_large",
    );
    expect(answer).toMatchObject({ limit: "decoded_bytes", max_bytes: 5 * MIB });
    expect(await storedLines()).toHaveLength(1);
  });

  it("400 no_events for a batch without events", async () => {
    await expectError(await post([]), 400, "no_events");
    await expectError(await post({ events: [] }), 400, "no_events");
    expect(await storedLines()).toEqual([]);
  });
});

describe("content encodings", () => {
  const body = JSON.stringify([event({ metadata: { n: 1 } }), event({ metadata: { n: 2 } })]);
  const content = ({ event_id: _id, created_at: _at, ...rest }: StoredEvent) => rest;

  it.each<[string, string, (text: string) => Buffer]>([
    ["gzip", "gzip", gzipSync],
    ["deflate (zlib)", "deflate", deflateSync],
    ["deflate (raw)", "deflate", deflateRawSync],
    ["br", "br", brotliCompressSync],
  ])("stores a %s body as it stores the plain one", async (_name, encoding, compress) => {
    expect((await post(body)).status).toBe(201);
    const response = await post(compress(body), { headers: { "content-encoding": encoding } });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ status: "success", accepted: 2, rejected: [] });
    const records = await stored();
    expect(records).toHaveLength(4);
    expect(records.slice(2).map(content)).toEqual(records.slice(0, 2).map(content));
  });

  it("415 unsupported_encoding for zstd, storing nothing", async () => {
    await expectError(await post(body, { headers: { "content-encoding": "zstd" } }), 415, "unsupported_encoding");
    expect(await storedLines()).toEqual([]);
  });

  it("400 malformed_body for gzip that is corrupt or cut short, storing nothing", async () => {
    const gzipped = gzipSync(body);
    const gzip = { headers: { "content-encoding": "gzip" } };
    await expectError(await post(Buffer.from(body), gzip), 400, "malformed_body");
    await expectError(await post(gzipped.subarray(0, gzipped.length - 12), gzip), 400, "malformed_body");
    expect(await storedLines()).toEqual([]);
  });

  it("with bodyDecoded (the platform inflated it), reads the body as is despite its Content-Encoding, up to 5 MiB", async () => {
    const gzip = { "content-encoding": "gzip" };
    expect((await post(body, { headers: gzip, bodyDecoded: true })).status).toBe(201);
    expect((await post(paddedBody(5 * MIB), { headers: gzip, bodyDecoded: true })).status).toBe(201);
    const answer = await expectError(
      await post(paddedBody(5 * MIB + 1), { headers: gzip, bodyDecoded: true }),
      413,
      "payload_too_large",
    );
    expect(answer).toMatchObject({
      limit: "decoded_bytes",
      max_bytes: 5 * MIB,
      message: expect.stringMatching(/decompressed/),
    });
    expect(await storedLines()).toHaveLength(3);
  });

  it("with bodyDecoded, holds a body that came uncompressed to the wire limit: 413 wire_bytes past 1 MiB", async () => {
    expect((await post(paddedBody(MIB), { bodyDecoded: true })).status).toBe(201);
    const answer = await expectError(await post(paddedBody(MIB + 1), { bodyDecoded: true }), 413, "payload_too_large");
    expect(answer).toMatchObject({ limit: "wire_bytes", max_bytes: MIB });
    expect(await storedLines()).toHaveLength(1);
  });
});

describe("partial success", () => {
  it("stores the valid events and names each rejected one by index, with its issues", async () => {
    const response = await post([
      event({ metadata: { n: 0 } }),
      { event_name: "no_hwid", app_version: "1" },
      event({ metadata: { n: 2 } }),
      "not an event",
    ]);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({
      status: "success",
      accepted: 2,
      rejected: [
        { index: 1, issues: [{ path: "hwid", message: expect.any(String) }] },
        { index: 3, issues: [{ path: "body", message: "an event must be a JSON object" }] },
      ],
    });
    expect((await stored()).map((record) => record.metadata.n)).toEqual([0, 2]);
  });

  it("400 invalid_events with the same detail when no event of a batch is valid", async () => {
    const answer = await expectError(
      await post([event({ app_version: "" }), event({ hwid: 7 })]),
      400,
      "invalid_events",
    );
    expect(answer.rejected).toEqual([
      { index: 0, issues: [{ path: "app_version", message: expect.any(String) }] },
      { index: 1, issues: [{ path: "hwid", message: expect.any(String) }] },
    ]);
    expect(await storedLines()).toEqual([]);
  });

  it("400 invalid_event with its issues for a single-event body", async () => {
    const answer = await expectError(await post(event({ app_version: "" })), 400, "invalid_event");
    expect(answer.issues).toEqual([{ path: "app_version", message: expect.any(String) }]);
    expect(answer.rejected).toEqual([{ index: 0, issues: answer.issues }]);
    expect(await storedLines()).toEqual([]);
  });
});

describe("idempotency", () => {
  const withId = (n = 1) => event({ event_id: CLIENT_ID, metadata: { n } });
  const copies = async (id = CLIENT_ID) => (await stored()).filter((record) => record.event_id === id).length;

  it("keeps the client's event_id as the record's (in lower case) and answers with it", async () => {
    const response = await post(event({ event_id: CLIENT_ID.toUpperCase() }));
    expect(await response.json()).toMatchObject({ event_id: CLIENT_ID });
    expect((await stored()).map((record) => record.event_id)).toEqual([CLIENT_ID]);
  });

  it("stores an event_id sent twice in one request once, and counts the copy as a duplicate", async () => {
    const response = await post([withId(1), event({ metadata: { n: 2 } }), withId(3)]);
    expect(await response.json()).toEqual({ status: "success", accepted: 3, duplicates: 1, rejected: [] });
    expect((await stored()).map((record) => record.metadata.n)).toEqual([1, 2]);
  });

  it("without the spool, stores an event sent again in a later request once while it is in the day's latest file", async () => {
    expect((await post(withId())).status).toBe(201);
    expect((await post([event({ metadata: { n: 2 } }), withId()])).status).toBe(201);
    expect(await copies()).toBe(1);
    expect(await storedLines()).toHaveLength(2);
  });

  it("with the spool, stores once an event whose two copies wait in the spool together", async () => {
    await use({}, { spool: true });
    expect((await post(withId())).status).toBe(201);
    expect((await post(withId())).status).toBe(201);
    expect(await runtime.spool!.spool.depth()).toMatchObject({ entries: 2, events: 2 });
    await flush();
    expect(await copies()).toBe(1);
  });

  it("with the spool, stores once an event sent again after the first copy was flushed", async () => {
    await use({}, { spool: true });
    await post(withId());
    await flush();
    await post(withId());
    await flush();
    expect(await copies()).toBe(1);
  });

  it("with the spool, stores once an event sent again after its day file rolled over to a new part", async () => {
    await use({}, { spool: true, maxFileBytes: 1024 });
    await post(withId());
    await flush();
    await post(event({ metadata: { filler: "f".repeat(900) } }));
    await flush();
    expect(await storedFiles()).toEqual([
      expect.stringMatching(/\/\d\d\/0001\.ndjson$/),
      expect.stringMatching(/\/\d\d\/0002\.ndjson$/),
    ]);
    await post(withId());
    await flush();
    expect(await copies()).toBe(1);
  });

  it.each([false, true])(
    "stores a single event sent twice with one Idempotency-Key once (spool: %s), answering one event_id",
    async (spool) => {
      await use({}, { spool });
      const key = { "idempotency-key": "retry-7f3a9c" };
      const first = await (await post(event(), { headers: key })).json();
      if (spool) await flush();
      const second = await (await post(event(), { headers: key })).json();
      if (spool) await flush();
      expect(second.event_id).toBe(first.event_id);
      expect((await stored()).map((record) => record.event_id)).toEqual([first.event_id]);
    },
  );

  it("takes the same Idempotency-Key from another hwid as another event", async () => {
    const key = { "idempotency-key": "retry-7f3a9c" };
    const first = await (await post(event({ hwid: "hw-1" }), { headers: key })).json();
    const second = await (await post(event({ hwid: "hw-2" }), { headers: key })).json();
    expect(second.event_id).not.toBe(first.event_id);
    expect((await stored()).map((record) => record.hwid)).toEqual(["hw-1", "hw-2"]);
  });

  it("400 invalid_idempotency_key for an Idempotency-Key on a batch body", async () => {
    const key = { "idempotency-key": "retry-7f3a9c" };
    for (const body of [[event()], { events: [event()] }, seeds.model_metadata_export_file]) {
      await expectError(await post(body, { headers: key }), 400, "invalid_idempotency_key");
    }
    const ndjson = { ...key, "content-type": "application/x-ndjson" };
    await expectError(await post(JSON.stringify(event()), { headers: ndjson }), 400, "invalid_idempotency_key");
    expect(await storedLines()).toEqual([]);
  });

  it("takes an Idempotency-Key of 255 visible ASCII characters and refuses a longer one, or one with a space or other characters", async () => {
    expect((await post(event(), { headers: { "idempotency-key": "k".repeat(255) } })).status).toBe(201);
    for (const bad of ["k".repeat(256), "k".repeat(300), "two words", "clé"]) {
      await expectError(await post(event(), { headers: { "idempotency-key": bad } }), 400, "invalid_idempotency_key");
    }
    expect(await storedLines()).toHaveLength(1);
  });

  it("stores identical bodies twice when they carry neither an event_id nor an Idempotency-Key", async () => {
    const body = JSON.stringify(event());
    const first = await (await post(body)).json();
    const second = await (await post(body)).json();
    expect(second.event_id).not.toBe(first.event_id);
    expect(await storedLines()).toHaveLength(2);
  });
});

describe("client timestamps", () => {
  // Away from UTC, so that a timestamp without an offset read in local time would show.
  const zone = process.env.TZ;
  beforeEach(() => {
    process.env.TZ = "America/New_York";
  });
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it.each([
    ["2026-01-23T12:34:56Z", "2026-01-23T12:34:56.000Z"],
    ["2026-01-23T12:34:56.5+02:00", "2026-01-23T10:34:56.500Z"],
    ["2026-01-23T01:00:00-05:30", "2026-01-23T06:30:00.000Z"],
    ["2026-01-23T12:34:56.123456", "2026-01-23T12:34:56.123Z"],
    ["2026-01-23T12:34", "2026-01-23T12:34:00.000Z"],
  ])("stores timestamp %s as client_timestamp %s", async (timestamp, utc) => {
    expect((await post(event({ timestamp }))).status).toBe(201);
    expect((await stored())[0]!.client_timestamp).toBe(utc);
  });

  it("files the event under the server's day, not the client's", async () => {
    await use({}, { clock: { ...systemClock, now: () => Date.parse("2026-03-15T10:00:00Z") } });
    await post(event({ timestamp: "2025-12-31T23:59:59Z" }));
    expect(await storedFiles()).toEqual(["telemetry/2026/03/15/0001.ndjson"]);
    expect((await stored())[0]).toMatchObject({
      created_at: "2026-03-15T10:00:00.000Z",
      client_timestamp: "2025-12-31T23:59:59.000Z",
    });
  });

  it.each([
    "yesterday",
    "2026-02-30T00:00:00Z",
    "2026-01-23 12:34:56Z",
    "2026-01-23T12:34:56+0200",
    "2026-01-23T24:00:00Z",
    1769171696,
  ])("rejects the timestamp %s", async (timestamp) => {
    const answer = await expectError(await post(event({ timestamp })), 400, "invalid_event");
    expect(answer.issues.map((issue: { path: string }) => issue.path)).toEqual(["timestamp"]);
    expect(await storedLines()).toEqual([]);
  });

  it("takes the years 0000 to 9999 in UTC and rejects a timestamp its offset takes outside them, which would block the spool", async () => {
    await use({}, { spool: true });
    for (const timestamp of ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "0000-01-01T00:30:00-01:00"]) {
      expect((await post(event({ timestamp }))).status).toBe(201);
    }
    for (const timestamp of ["0000-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"]) {
      const answer = await expectError(await post(event({ timestamp })), 400, "invalid_event");
      expect(answer.issues).toEqual([{ path: "timestamp", message: expect.stringMatching(/0000.*9999/) }]);
    }
    await flush();
    expect((await stored()).map((record) => record.client_timestamp)).toEqual([
      "0000-01-01T00:00:00.000Z",
      "9999-12-31T23:59:59.999Z",
      "0000-01-01T01:30:00.000Z",
    ]);
  });
});

describe("shared secret", () => {
  beforeEach(async () => {
    await use({ TELEMETRY_SECRET: SECRET, TELEMETRY_ALLOWED_ORIGINS: ORIGIN });
  });

  it("401 unauthorized with WWW-Authenticate for a missing or wrong key, storing nothing", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { "x-telemetry-key": SECRET.slice(0, -1) },
      { "x-telemetry-key": `${SECRET}x` },
      { authorization: `Bearer ${SECRET.toUpperCase()}` },
      { authorization: SECRET },
    ];
    for (const headers of attempts) {
      const response = await post(event(), { headers });
      await expectError(response, 401, "unauthorized");
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
    }
    expect(await storedLines()).toEqual([]);
  });

  it("accepts the key in X-Telemetry-Key or as Authorization: Bearer", async () => {
    expect((await post(event(), { headers: { "x-telemetry-key": SECRET } })).status).toBe(201);
    expect((await post(event(), { headers: { authorization: `Bearer ${SECRET}` } })).status).toBe(201);
    expect(await storedLines()).toHaveLength(2);
  });

  it("never puts the secret in an answer", async () => {
    const key = { "x-telemetry-key": SECRET };
    const responses = [
      await post(event()),
      await post(event(), { headers: { authorization: `Bearer ${SECRET}-wrong` } }),
      await post(event(), { headers: key }),
      await post(event({ hwid: "" }), { headers: key }),
      await post("{", { headers: key }),
      await post(event(), { headers: { ...key, "content-type": "application/xml" } }),
      await ingest(new Request(ENDPOINT, { method: "GET", headers: key }), { runtime }),
      await preflight(ORIGIN),
    ];
    for (const response of responses) {
      const text = `${JSON.stringify([...response.headers])}\n${await response.text()}`;
      expect(text).not.toContain(SECRET);
    }
  });

  it("refuses a secret shorter than 16 characters at configuration, without quoting it", () => {
    const short = "fifteen-chars-x";
    let refusal: unknown;
    try {
      loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SECRET: short });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as Error).message).toMatch(/TELEMETRY_SECRET/);
    expect((refusal as Error).message).not.toContain(short);
    expect(loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SECRET: `${short}y` }).ingest.secret).toBe(`${short}y`);
  });
});

describe("CORS", () => {
  const corsHeadersOf = (response: Response) =>
    [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));
  const listed = (response: Response, name: string) =>
    (response.headers.get(name) ?? "").split(",").map((item) => item.trim().toLowerCase());

  beforeEach(async () => {
    await use({ TELEMETRY_ALLOWED_ORIGINS: `${ORIGIN}, https://other.example.org` });
  });

  it("answers a preflight from an allowed origin with 204 and what a page may send", async () => {
    const response = await preflight(ORIGIN);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(listed(response, "access-control-allow-methods")).toContain("post");
    expect(listed(response, "access-control-allow-headers")).toEqual(
      expect.arrayContaining(["content-type", "content-encoding", "x-telemetry-key", "idempotency-key"]),
    );
  });

  it("answers a preflight from another origin with 204 and no access-control-* header", async () => {
    const response = await preflight("https://evil.example.net");
    expect(response.status).toBe(204);
    expect(corsHeadersOf(response)).toEqual([]);
  });

  it("lets a page of an allowed origin read the answer to its POST, and a client without Origin post as before", async () => {
    const allowed = await post(event(), { headers: { origin: ORIGIN } });
    expect(allowed.status).toBe(201);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const desktop = await post(event());
    expect(desktop.status).toBe(201);
    expect(corsHeadersOf(desktop)).toEqual([]);
    expect(await stored()).toHaveLength(2);
  });

  it("refuses a POST from a page of another origin with 403 origin_not_allowed, storing nothing, even as text/plain", async () => {
    for (const origin of ["https://evil.example.net", "null"]) {
      const refused = await post(event(), { headers: { origin, "content-type": "text/plain" } });
      await expectError(refused, 403, "origin_not_allowed");
      expect(corsHeadersOf(refused)).toEqual([]);
    }
    expect(await storedFiles()).toEqual([]);
  });

  it('allows any origin with "*"', async () => {
    await use({ TELEMETRY_ALLOWED_ORIGINS: "*" });
    const pre = await preflight("https://anywhere.example");
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(listed(pre, "access-control-allow-headers")).toContain("x-telemetry-key");
    expect(
      (await post(event(), { headers: { origin: "https://anywhere.example" } })).headers.get(
        "access-control-allow-origin",
      ),
    ).toBe("*");
  });

  it("with a secret, answers a preflight without one, and lets the page read a 401", async () => {
    await use({ TELEMETRY_ALLOWED_ORIGINS: ORIGIN, TELEMETRY_SECRET: SECRET });
    const pre = await preflight(ORIGIN);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const refused = await post(event(), { headers: { origin: ORIGIN } });
    await expectError(refused, 401, "unauthorized");
    expect(refused.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });
});

describe("dropped client types", () => {
  it('answers 201 for "unit-tests" events (the default list) and stores none of them', async () => {
    expect(await (await post(event({ client_type: "unit-tests" }))).json()).toEqual({
      status: "success",
      accepted: 1,
      rejected: [],
    });
    const response = await post([event({ client_type: "unit-tests" }), event(), event({ client_type: "unit-tests" })]);
    expect(await response.json()).toEqual({ status: "success", accepted: 3, rejected: [] });
    expect((await stored()).map((record) => record.client_type)).toEqual(["vector-inspector"]);
  });

  it("with the spool, counts them by client type in health once flushed", async () => {
    await use({}, { spool: true });
    await post(event({ client_type: "unit-tests" }));
    await post([event({ client_type: "unit-tests" }), event(), event({ client_type: "unit-tests" })]);
    await flush();
    const health = await (await reportHealth(new Request("http://localhost/api/v1/health"), runtime)).json();
    expect(health.spool.dropped_events).toEqual({ "unit-tests": 3 });
    expect(await storedLines()).toHaveLength(1);
  });

  it("stores them with TELEMETRY_DROP_CLIENT_TYPES=none", async () => {
    await use({ TELEMETRY_DROP_CLIENT_TYPES: "none" });
    await post(event({ client_type: "unit-tests" }));
    expect((await stored()).map((record) => record.client_type)).toEqual(["unit-tests"]);
  });

  it("drops the types of a custom list, and only those", async () => {
    await use({ TELEMETRY_DROP_CLIENT_TYPES: "ci, smoke-test" });
    const response = await post(
      ["ci", "smoke-test", "unit-tests", "vector-inspector"].map((type) => event({ client_type: type })),
    );
    expect(await response.json()).toMatchObject({ accepted: 4, rejected: [] });
    expect((await stored()).map((record) => record.client_type)).toEqual(["unit-tests", "vector-inspector"]);
  });
});

describe("typed known events", () => {
  const registration = (metadata: Record<string, unknown>) =>
    event({ event_name: "model_registration", metadata: { model_name: "m", ...metadata } });

  it("lenient (the default): stores a known event whose metadata breaks its schema, with the violations", async () => {
    expect((await post(registration({ embedding_dimension: "768" }))).status).toBe(201);
    const [record] = await stored();
    expect(record!.metadata.embedding_dimension).toBe("768");
    expect(record!.schema_violations).toEqual([{ path: "metadata.embedding_dimension", message: expect.any(String) }]);
  });

  it("strict: rejects such an event as that event's rejection", async () => {
    await use({ TELEMETRY_SCHEMA_MODE: "strict" });
    const issues = [{ path: "metadata.embedding_dimension", message: expect.any(String) }];
    const response = await post([
      registration({ embedding_dimension: "768" }),
      registration({ embedding_dimension: 768 }),
    ]);
    expect(await response.json()).toEqual({ status: "success", accepted: 1, rejected: [{ index: 0, issues }] });
    const single = await expectError(await post(registration({ embedding_dimension: "768" })), 400, "invalid_event");
    expect(single.issues).toEqual(issues);
    expect((await stored()).map((record) => record.metadata.embedding_dimension)).toEqual([768]);
  });

  it.each(["lenient", "strict"])(
    "%s: stores an event of an unknown name with any metadata, without violations",
    async (mode) => {
      await use({ TELEMETRY_SCHEMA_MODE: mode });
      const metadata = { embedding_dimension: "768", message: 42, nested: { list: [1, "two", null] } };
      expect((await post(event({ event_name: "plugin.custom_thing", metadata }))).status).toBe(201);
      const [record] = await stored();
      expect(record!.metadata).toEqual(metadata);
      expect(record!.schema_violations).toBeUndefined();
    },
  );

  it.each(["lenient", "strict"])("%s: keeps metadata fields a known event does not list", async (mode) => {
    await use({ TELEMETRY_SCHEMA_MODE: mode });
    const metadata = { model_name: "m", embedding_dimension: 768, gpu_name: "RTX 4090", extra: { quantized: true } };
    expect((await post(event({ event_name: "model_registration", metadata }))).status).toBe(201);
    const [record] = await stored();
    expect(record!.metadata).toEqual(metadata);
    expect(record!.schema_violations).toBeUndefined();
  });
});

describe("install ids (TELEMETRY_HWID_MODE)", () => {
  const SALT = "hwid-salt-0123456789";

  it("full (the default) stores the id as sent", async () => {
    expect((await post(event({ hwid: "install-1" }))).status).toBe(201);
    expect((await stored()).at(-1)!.hwid).toBe("install-1");
  });

  it("hash stores a keyed hash: the same for one id and salt, never the id, and none without a salt", async () => {
    await use({ TELEMETRY_HWID_MODE: "hash", TELEMETRY_HWID_SALT: SALT });
    for (const hwid of ["install-1", "install-1", "install-2"]) expect((await post(event({ hwid }))).status).toBe(201);
    const ids = (await stored()).map((record) => record.hwid);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[0]).toBe(pseudonymizeHwid("install-1", "hash", SALT));
    expect((await storedLines()).join("\n")).not.toContain("install-");
    expect(() => loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_HWID_MODE: "hash" })).toThrow(/TELEMETRY_HWID_SALT/);
    expect(() => loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_HWID_MODE: "hashed" })).toThrow(
      /TELEMETRY_HWID_MODE/,
    );
  });
});

describe("client address (TELEMETRY_IP_MODE)", () => {
  const storedIp = async (platformIp: string | undefined, headers: Record<string, string> = {}) => {
    expect((await post(event(), { platformIp, headers })).status).toBe(201);
    return (await stored()).at(-1)!.ip;
  };

  it("full (the default) keeps the address as received", async () => {
    expect(await storedIp("203.0.113.7")).toBe("203.0.113.7");
    expect(await storedIp("2001:db8:85a3::8a2e:370:7334")).toBe("2001:db8:85a3::8a2e:370:7334");
  });

  it("truncate keeps the /24 of an IPv4 address and the /48 of an IPv6 one", async () => {
    await use({ TELEMETRY_IP_MODE: "truncate" });
    expect(await storedIp("203.0.113.77")).toBe("203.0.113.0");
    expect(await storedIp("2001:0db8:85a3:0000:0000:8a2e:0370:7334")).toBe("2001:db8:85a3::");
  });

  it("hash gives 16 hex characters, the same for one address and salt, another with another salt, never the address", async () => {
    await use({ TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: "first-salt-0123456789" });
    const first = await storedIp("203.0.113.7");
    const again = await storedIp("203.0.113.7");
    const neighbour = await storedIp("203.0.113.8");
    await use({ TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: "other-salt-0123456789" });
    const salted = await storedIp("203.0.113.7");
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(again).toBe(first);
    expect(new Set([first, neighbour, salted]).size).toBe(3);
    expect((await storedLines()).join("\n")).not.toContain("203.0.113");
  });

  it("hash needs TELEMETRY_IP_SALT of at least 16 characters", () => {
    expect(() => loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_IP_MODE: "hash" })).toThrow(ConfigError);
    expect(() =>
      loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: "s".repeat(15) }),
    ).toThrow(ConfigError);
    expect(
      loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: "s".repeat(16) }).ingest
        .ipMode,
    ).toBe("hash");
  });

  it("off stores null", async () => {
    await use({ TELEMETRY_IP_MODE: "off" });
    expect(await storedIp("203.0.113.7", { "x-forwarded-for": "198.51.100.4" })).toBeNull();
  });

  it("does not store a forged X-Forwarded-For that is not an address", async () => {
    expect(await storedIp(undefined, { "x-forwarded-for": "<script>alert(1)</script>" })).toBeNull();
    expect(await storedIp(undefined, { "x-forwarded-for": "evil.example, 198.51.100.4" })).toBeNull();
    expect(await storedIp(undefined, { "x-forwarded-for": "198.51.100.4" })).toBe("198.51.100.4");
    expect((await storedLines()).join("\n")).not.toMatch(/script|evil/);
  });
});

describe("scrubbing", () => {
  // What the client's exception hook sends for an uncaught exception.
  const traceback = [
    "Traceback (most recent call last):",
    '  File "/home/alice/projects/vector-inspector/src/app.py", line 42, in run',
    "    self.connect()",
    '  File "C:\\Users\\Bob\\AppData\\Local\\vector-inspector\\db.py", line 7, in connect',
    "    raise ConnectionError(message)",
    "ConnectionError: connection refused",
  ].join("\n");
  const sent = {
    exception_type: "ConnectionError",
    message: "login as alice@example.com failed with key sk-proj-Abc123def456ghi789jkl012",
    traceback,
    error_hash: "9f2c4e1a7b3d",
  };
  const crash = event({ event_name: "UncaughtException", metadata: sent });

  it("replaces user names, e-mail addresses and keys, keeps the traceback's lines, and counts the redactions", async () => {
    expect((await post(crash)).status).toBe(201);
    const [record] = await stored();
    expect(record!.metadata).toEqual({
      exception_type: "ConnectionError",
      message: "login as [email] failed with key [REDACTED]",
      traceback: traceback.replace("/home/alice/", "/home/[user]/").replace("\\Users\\Bob\\", "\\Users\\[user]\\"),
      error_hash: "9f2c4e1a7b3d",
    });
    expect((record!.metadata.traceback as string).split("\n")).toHaveLength(6);
    expect(record!.redactions).toBe(4);
    expect((await storedLines()).join("\n")).not.toMatch(/alice|Bob|sk-proj/);
  });

  it("replaces the value of a metadata key that names a secret", async () => {
    const metadata = { db_type: "qdrant", api_key: "plain-looking-value", password: "hunter2", primary_key: "id" };
    await post(event({ event_name: "db.connection_attempt", metadata }));
    const [record] = await stored();
    expect(record!.metadata).toEqual({
      db_type: "qdrant",
      api_key: "[REDACTED]",
      password: "[REDACTED]",
      primary_key: "id",
    });
    expect(record!.redactions).toBe(2);
  });

  it("stores metadata as sent with TELEMETRY_SCRUB=off", async () => {
    await use({ TELEMETRY_SCRUB: "off" });
    await post(crash);
    const [record] = await stored();
    expect(record!.metadata).toEqual(sent);
    expect(record!.redactions).toBeUndefined();
  });
});

describe("metadata shape limits", () => {
  /** Metadata `levels` objects deep, the metadata object itself being the first. */
  const nested = (levels: number): Record<string, unknown> =>
    levels <= 1 ? { leaf: true } : { deeper: nested(levels - 1) };

  it("takes metadata nested 8 levels deep and rejects 9, naming the limit", async () => {
    const response = await post([
      event({ event_name: "custom.deep", metadata: nested(8) }),
      event({ event_name: "custom.deep", metadata: nested(9) }),
    ]);
    expect(await response.json()).toEqual({
      status: "success",
      accepted: 1,
      rejected: [
        {
          index: 1,
          issues: [
            { path: `metadata${".deeper".repeat(8)}`, message: expect.stringMatching(/nested more than 8 levels/) },
          ],
        },
      ],
    });
    expect((await stored()).map((record) => record.metadata)).toEqual([nested(8)]);
  });

  it("takes a string of 16,384 characters and rejects one of 16,385, naming the limit", async () => {
    const response = await post([
      event({ metadata: { text: "x".repeat(16_384) } }),
      event({ metadata: { text: "x".repeat(16_385) } }),
    ]);
    expect(await response.json()).toEqual({
      status: "success",
      accepted: 1,
      rejected: [
        { index: 1, issues: [{ path: "metadata.text", message: "string is 16385 characters; the limit is 16384" }] },
      ],
    });
    expect((await stored()).map((record) => (record.metadata.text as string).length)).toEqual([16_384]);
  });

  it("takes metadata of 1,000 entries and rejects 1,001, naming the limit", async () => {
    const entries = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, n) => [`k${n}`, n]));
    const response = await post([
      event({ event_name: "custom.wide", metadata: entries(1000) }),
      event({ event_name: "custom.wide", metadata: entries(1001) }),
    ]);
    expect(await response.json()).toEqual({
      status: "success",
      accepted: 1,
      rejected: [
        {
          index: 1,
          issues: [{ path: "metadata", message: expect.stringMatching(/more than 1000 entries.*the limit is 1000/) }],
        },
      ],
    });
    expect(Object.keys((await stored())[0]!.metadata)).toHaveLength(1000);
  });

  it.each([
    ['{"__proto__":{"polluted":true}}', "metadata.__proto__"],
    ['{"a":{"constructor":{"prototype":{"polluted":true}}}}', "metadata.a.constructor"],
  ])("rejects metadata %s and leaves Object.prototype alone", async (metadata, path) => {
    const raw = `{"metadata":${metadata},"hwid":"hw-1","event_name":"custom.proto","app_version":"1.2.3"}`;
    const single = await expectError(await post(raw), 400, "invalid_event");
    expect(single.issues).toEqual([{ path, message: expect.stringMatching(/not allowed/) }]);
    const response = await post(`[${raw},${JSON.stringify(event())}]`);
    expect(await response.json()).toMatchObject({ accepted: 1, rejected: [{ index: 0, issues: single.issues }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await storedLines()).join("\n")).not.toContain("polluted");
  });
});

describe("stored lines", () => {
  it("escape NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR, so that a reader splitting on them (Python's splitlines) sees one line per event", async () => {
    const texts = ["a\u2028b", "c\u2029d", "e\u0085f"];
    const response = await post(
      texts.map((text, n) => event({ event_name: `custom.breaks.${n}`, metadata: { text } })),
    );
    expect(response.status).toBe(201);
    const [file] = await storedFiles();
    const raw = await readFile(join(dir, file!), "utf8");
    // The line breaks Python's str.splitlines knows, less \r\n (which JSON escapes anyway).
    const splitlines = raw.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/).filter(Boolean);
    expect(splitlines).toHaveLength(3);
    expect(splitlines.map((line) => storedEventSchema.parse(JSON.parse(line)).metadata.text)).toEqual(texts);
  });
});

describe("credentials in the envelope", () => {
  // Built from parts, so that no committed line looks like a real token to a secret scanner.
  const token = `${"ghp"}_${"a1B2".repeat(9)}`;

  it.each(["hwid", "event_name", "app_version", "client_type"])(
    "refuses an event whose %s holds a token (GitHub's push protection would refuse every commit of its file), storing the rest",
    async (field) => {
      const response = await post([event({ [field]: `x-${token}` }), event()]);
      expect(await response.json()).toMatchObject({
        accepted: 1,
        rejected: [{ index: 0, issues: [{ path: field, message: expect.stringMatching(/GitHub token/) }] }],
      });
      const lines = await storedLines();
      expect(lines).toHaveLength(1);
      expect(lines.join("\n")).not.toContain(token);
    },
  );

  it("refuses it with TELEMETRY_SCRUB=off too, which keeps metadata as sent", async () => {
    await use({ TELEMETRY_SCRUB: "off" });
    await expectError(await post(event({ hwid: token })), 400, "invalid_event");
    expect(await storedFiles()).toEqual([]);
  });
});
