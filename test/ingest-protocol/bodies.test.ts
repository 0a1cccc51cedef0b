import type { StoredEvent } from "../../lib/events/stored-event.ts";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import seeds from "../fixtures/seed-events.json" with { type: "json" };
import { expectError } from "../support/answers.ts";
import { describe, expect, it } from "../support/fixtures.ts";
import { KIB, MIB, post, storedLines, stored, event, paddedBody, setUpProtocol } from "../support/ingest-protocol.ts";

/* The ingest protocol as a client sees it: What a body may be: its batch shapes, its limits, its content encodings, and a batch's partial success. */
setUpProtocol();

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
