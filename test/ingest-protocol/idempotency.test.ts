import { systemClock } from "../../lib/clock.ts";
import seeds from "../fixtures/seed-events.json" with { type: "json" };
import { expectError } from "../support/answers.ts";
import { describe, expect, it, test } from "../support/fixtures.ts";
import {
  CLIENT_ID,
  runtime,
  use,
  post,
  flush,
  storedFiles,
  storedLines,
  stored,
  event,
  setUpProtocol,
} from "../support/ingest-protocol.ts";

/* The ingest protocol as a client sees it: Each event stored once (event_id, Idempotency-Key, the spool), and the client's timestamps. */
setUpProtocol();

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
    use({}, { spool: true });
    expect((await post(withId())).status).toBe(201);
    expect((await post(withId())).status).toBe(201);
    expect(await runtime.spool!.spool.depth()).toMatchObject({ entries: 2, events: 2 });
    await flush();
    expect(await copies()).toBe(1);
  });

  it("with the spool, stores once an event sent again after the first copy was flushed", async () => {
    use({}, { spool: true });
    await post(withId());
    await flush();
    await post(withId());
    await flush();
    expect(await copies()).toBe(1);
  });

  it("with the spool, stores once an event sent again after its day file rolled over to a new part", async () => {
    use({}, { spool: true, maxFileBytes: 1024 });
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
      use({}, { spool });
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
  test.beforeEach(() => {
    process.env.TZ = "America/New_York";
  });
  test.afterEach(() => {
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
    use({}, { clock: { ...systemClock, now: () => Date.parse("2026-03-15T10:00:00Z") } });
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
    use({}, { spool: true });
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
