import { MINUTE_MS, systemClock, type Clock } from "../lib/clock.ts";
import { DAY_MS } from "../lib/day.ts";
import { loadConfig } from "../lib/config.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { reportHealth } from "../lib/http/endpoints/report-health.ts";
import { createRuntime, type Runtime } from "../lib/runtime.ts";
import type { BlobStore } from "../lib/spool/blob-store.ts";
import type { FakeGitHub, FakeGitHubOptions } from "./support/fake-github/index.ts";
import { describe, expect, it, test } from "./support/fixtures.ts";
import { scaledClock } from "../bench/scaled-clock.ts";

const TOKEN = "health-test-token";
const SECRET = "a-shared-secret-for-health";

type Ready = Runtime & { ok: true };

/** This test's store on the file's Blobs server. */
let spoolStore: BlobStore;
let fake: FakeGitHub;
let github: { url: string };
let serveGitHub: (options: FakeGitHubOptions) => Promise<{ fake: FakeGitHub; url: string }>;
/** Every listing of waiting entries the runtime made, by prefix. */
let listings: string[];

test.beforeEach(({ spoolStore: store, serveGitHub: serve }) => {
  spoolStore = store;
  serveGitHub = serve;
  listings = [];
});

async function useGitHub(
  options: FakeGitHubOptions = {},
  { token = TOKEN, clock = systemClock, writesPerHour = 400 } = {},
) {
  ({ fake, ...github } = await serveGitHub({ token: TOKEN, empty: true, ...options }));
  const config = loadConfig({
    GITHUB_TOKEN: token,
    GITHUB_REPOSITORY: "acme/data",
    GITHUB_API_URL: github.url,
    TELEMETRY_SECRET: SECRET,
    TELEMETRY_WRITES_PER_HOUR: String(writesPerHour),
  });
  return createRuntime(config, { blobs: counted(spoolStore), clock }) as Ready;
}

function counted(store: BlobStore): BlobStore {
  return {
    get: (key, options) => store.get(key, options),
    setJSON: (key, value, options) => store.setJSON(key, value, options),
    delete: (key) => store.delete(key),
    list: (options) => {
      if (!options.directories && /^(pending|quarantine)\//.test(options.prefix)) listings.push(options.prefix);
      return store.list(options);
    },
  };
}

const later = (ms: number): Clock => ({ ...systemClock, now: () => Date.now() + ms });

async function health(runtime: Ready, key = SECRET) {
  const response = await reportHealth(
    new Request("http://localhost/api/v1/health", { headers: { "x-telemetry-key": key } }),
    runtime,
  );
  return { status: response.status, body: await response.json() };
}

function post(runtime: Ready, body: unknown) {
  return ingest(
    new Request("http://localhost/api/v1/telemetry", {
      method: "POST",
      headers: { "content-type": "application/json", "x-telemetry-key": SECRET },
      body: JSON.stringify(body),
    }),
    { runtime },
  );
}

const event = { hwid: "h", event_name: "app_launch", app_version: "1.0.0" };

describe("GET /api/v1/health", () => {
  it("says ok, with no reason, while events flow", async () => {
    const runtime = await useGitHub();
    expect(await health(runtime)).toEqual({
      status: 200,
      body: expect.objectContaining({ status: "ok", reasons: [] }),
    });
    await post(runtime, event);
    await runtime.spool!.flush(5000);
    const { status, body } = await health(runtime);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ok", reasons: [], spool: { waiting_events: 0, writes_last_hour: 1 } });
  });

  it("says failing (503) when the oldest waiting event is older than the limit, naming it", async () => {
    const runtime = await useGitHub();
    await post(runtime, event);
    expect((await health({ ...runtime, clock: later(14 * MINUTE_MS) })).body.status).not.toBe("failing");
    const { status, body } = await health({ ...runtime, clock: later(16 * MINUTE_MS) });
    expect(status).toBe(503);
    expect(body.status).toBe("failing");
    expect(body.reasons).toContainEqual({
      reason: "oldest_event_waiting",
      severity: "failing",
      message: expect.stringMatching(/16 min ago; the limit is 15 min/),
    });
  });

  it("says degraded (200) when events wait longer than the write pace explains: no flush is taking them", async () => {
    const runtime = await useGitHub();
    // Accepted, and no flush woken (a wake-up lost, no schedule): the pace would let it be written at once.
    await post(runtime, event);
    expect((await health({ ...runtime, clock: later(MINUTE_MS) })).body.status).toBe("ok");
    const { status, body } = await health({ ...runtime, clock: later(3 * MINUTE_MS) });
    expect(status).toBe(200);
    expect(body.status).toBe("degraded");
    expect(body.reasons).toEqual([
      { reason: "events_stalled", severity: "degraded", message: expect.stringMatching(/3 min ago/) },
    ]);
    await runtime.spool!.flush(5000);
    expect((await health({ ...runtime, clock: later(3 * MINUTE_MS) })).body).toMatchObject({
      status: "ok",
      reasons: [],
    });
  });

  it("says ok while events wait only for the write pace (the hour's writes spent)", async () => {
    const runtime = await useGitHub({}, { writesPerHour: 1 });
    await post(runtime, event);
    await runtime.spool!.flush(5000);
    await post(runtime, event);
    expect(await runtime.spool!.flush(5000)).toMatchObject({ outcome: "paced" });
    const { body } = await health({ ...runtime, clock: later(3 * MINUTE_MS) });
    expect(body).toMatchObject({ status: "ok", reasons: [], spool: { waiting_events: 1 } });
  });

  it("says failing when GitHub refuses writes (a revoked token), and the flusher backs off instead of trying again at once", async ({
    logs,
  }) => {
    const runtime = await useGitHub({}, { token: "a-revoked-token" });
    await post(runtime, event);
    expect(await runtime.spool!.flush(5000)).toMatchObject({ outcome: "refused" });
    const { status, body } = await health(runtime);
    expect(status).toBe(503);
    expect(body.reasons).toContainEqual(expect.objectContaining({ reason: "writes_refused", severity: "failing" }));
    expect(body.spool.refused_since).not.toBeNull();

    const calls = fake.requests.length;
    const reads = listings.length;
    expect(await runtime.spool!.flush(5000)).toMatchObject({ outcome: "refused", events: 0 });
    expect(fake.requests.length).toBe(calls);
    expect(listings.length).toBe(reads);
    // One refusal logged, for the operator, without the token it was refused.
    expect(logs.of("github_write_refused")).toEqual([expect.objectContaining({ level: "error", status: 401 })]);
    expect(JSON.stringify(logs.lines)).not.toContain("a-revoked-token");
  });

  it("says degraded (200) when the token expires within 7 days", async () => {
    const runtime = await useGitHub({ tokenExpiresAt: new Date(Date.now() + 3 * DAY_MS) });
    await post(runtime, event);
    await runtime.spool!.flush(5000);
    const { status, body } = await health(runtime);
    expect(status).toBe(200);
    expect(body.status).toBe("degraded");
    expect(body.reasons).toEqual([
      { reason: "token_expires_soon", severity: "degraded", message: expect.stringMatching(/expires at/) },
    ]);
    expect(Date.parse(body.spool.token_expires_at)).toBeGreaterThan(Date.now() + 2 * DAY_MS);
  });

  it("says degraded when events were set aside", async ({ logs }) => {
    const runtime = await useGitHub();
    const now = Date.now();
    const key = `pending/${String(Math.floor(now / 60_000)).padStart(10, "0")}/${String(now).padStart(15, "0")}-1-${crypto.randomUUID()}`;
    await spoolStore.setJSON(key, { events: [{ event_id: "not-a-uuid" }] });
    await runtime.spool!.flush(5000);
    const { body } = await health(runtime);
    expect(body.status).toBe("degraded");
    expect(body.reasons).toEqual([expect.objectContaining({ reason: "events_quarantined" })]);
    expect(body.spool.quarantined_events).toBe(1);
    // What still waits there (until it expires or an erasure removes it), not only what was ever set aside.
    expect(body.spool.quarantined_waiting).toBe(1);
    expect(logs.of("spool_quarantined")).toEqual([
      expect.objectContaining({
        level: "error",
        key: `${key}/0`,
        issues: expect.arrayContaining([expect.objectContaining({ path: "event_id" })]),
      }),
    ]);
  });

  it("lists the spool at most once a minute however often it is asked, and again after a flush", async () => {
    const runtime = await useGitHub();
    await post(runtime, event);
    for (let n = 0; n < 10; n++) expect((await health(runtime)).body.spool.waiting_events).toBe(1);
    expect(listings.filter((prefix) => prefix === "pending/")).toHaveLength(1);
    await runtime.spool!.flush(5000);
    expect((await health(runtime)).body.spool.waiting_events).toBe(0);
    expect((await health({ ...runtime, clock: later(2 * MINUTE_MS) })).body.spool.waiting_events).toBe(0);
    expect(listings.filter((prefix) => prefix === "pending/")).toHaveLength(3);
  });

  it("counts what waits in quarantine at most once a minute however often it is asked", async () => {
    const runtime = await useGitHub();
    const now = Date.now();
    const entry = `pending/${String(Math.floor(now / 60_000)).padStart(10, "0")}/${String(now).padStart(15, "0")}-2-${crypto.randomUUID()}`;
    const quarantine = runtime.spool!.spool.quarantine;
    await quarantine.setAside(`${entry}/1`, { hwid: "a" }, [{ path: "body", message: "refused" }]);
    for (let n = 0; n < 10; n++) expect((await health(runtime)).body.spool.quarantined_waiting).toBe(1);
    await quarantine.setAside(`${entry}/2`, { hwid: "a" }, [{ path: "body", message: "refused" }]);
    expect((await health(runtime)).body.spool.quarantined_waiting).toBe(1);
    expect((await health({ ...runtime, clock: later(2 * MINUTE_MS) })).body.spool.quarantined_waiting).toBe(2);
    expect(listings.filter((prefix) => prefix === "quarantine/")).toHaveLength(2);
  });
});

describe("a revoked token", () => {
  it("costs a bounded number of flushes and Blobs reads over 10 minutes, and once a valid token is set every event is stored once", async () => {
    const clock = scaledClock(60);
    let reads = 0;
    const store: BlobStore = spoolStore;
    const countedReads: BlobStore = {
      ...store,
      get: (key, options) => {
        reads += 1;
        return store.get(key, options);
      },
      list: (options) => {
        reads += 1;
        return store.list(options);
      },
      setJSON: (key, value, options) => store.setJSON(key, value, options),
      delete: (key) => store.delete(key),
    };
    ({ fake, ...github } = await serveGitHub({ token: TOKEN, empty: true, now: () => clock.now() }));
    const runtimeWith = (token: string) =>
      createRuntime(loadConfig({ GITHUB_TOKEN: token, GITHUB_REPOSITORY: "acme/data", GITHUB_API_URL: github.url }), {
        blobs: countedReads,
        clock,
      }) as Ready;

    const revoked = runtimeWith("a-revoked-token");
    let invocations = 0;
    // As Netlify would: each wake-up and hand-over is an invocation of the flush function.
    const invoke = async (): Promise<void> => {
      invocations += 1;
      void revoked.spool!.flush(7_000, invoke);
    };
    const events = Array.from({ length: 10 }, (_, n) => ({ ...event, metadata: { n } }));
    for (const one of events) {
      const response = await ingest(
        new Request("http://localhost/api/v1/telemetry", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(one),
        }),
        { runtime: revoked, startFlush: invoke },
      );
      expect(response.status).toBe(201);
    }
    // Ten simulated minutes, with the schedule's flush every minute.
    const tenMinutes = clock.now() + 10 * MINUTE_MS;
    while (clock.now() < tenMinutes) {
      invocations += 1;
      await revoked.spool!.flush(25_000);
      await clock.sleep(MINUTE_MS);
    }
    expect(invocations).toBeLessThanOrEqual(30);
    expect(reads).toBeLessThanOrEqual(400);
    expect(fake.requests.filter((request) => request.status === 401).length).toBeLessThanOrEqual(12);
    expect((await health(revoked)).body.reasons).toContainEqual(expect.objectContaining({ reason: "writes_refused" }));

    const renewed = runtimeWith(TOKEN);
    await renewed.spool!.flush(25_000);
    const lines = fake.paths().flatMap((path) => (fake.file(path) ?? "").split("\n").filter(Boolean));
    expect(lines.map((line) => JSON.parse(line).metadata.n).sort((a, b) => a - b)).toEqual(events.map((_, n) => n));
    expect((await health(renewed)).body.status).toBe("ok");
  });
});
