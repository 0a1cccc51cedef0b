import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { vi } from "vitest";
import { MINUTE_MS, systemClock } from "../lib/clock.ts";
import { loadConfig } from "../lib/config.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { reportHealth } from "../lib/http/endpoints/report-health.ts";
import { createRuntime } from "../lib/runtime.ts";
import type { BlobStore } from "../lib/spool/blob-store.ts";
import type { ReadyRuntime } from "./support/fixtures.ts";
import { describe, expect, it } from "./support/fixtures.ts";

/** What `npm start` with no GitHub settings runs: the local folder store behind the spool. */
const post = (runtime: ReadyRuntime, body: unknown) =>
  ingest(
    new Request("http://localhost:8888/api/v1/telemetry", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    // As the telemetry function does: each accepted request may wake a flush.
    { runtime, startFlush: () => runtime.spool!.startFlush("http://localhost:8888/api/v1/telemetry") },
  );

const event = (client: number, n: number) => ({
  hwid: `client-${client}`,
  event_name: "app_launch",
  app_version: "1.0.0",
  metadata: { n },
});

async function storedIds(dir: string): Promise<string[]> {
  const files = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const texts = await Promise.all(
    files.filter((file) => file.isFile()).map((file) => readFile(join(file.parentPath, file.name), "utf8")),
  );
  return texts.flatMap((text) => text.split("\n").filter(Boolean)).map((line) => JSON.parse(line).event_id as string);
}

/** Sends `count` single-event requests from `clients` clients at once, each waiting for its answer; the accepted ids. */
async function burst(runtime: ReadyRuntime, clients: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  const client = async (index: number) => {
    for (let n = index; n < count; n += clients) {
      const response = await post(runtime, event(index, n));
      expect(response.status).toBe(201);
      ids.push((await response.json()).event_id);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
  return ids;
}

/** Sends `count` events one at a time, each once the one before it landed: every one is a write of its own. */
async function landOneByOne(runtime: ReadyRuntime, dir: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n += 1) {
    const response = await post(runtime, event(0, n));
    expect(response.status).toBe(201);
    ids.push((await response.json()).event_id);
    await expect.poll(async () => (await storedIds(dir)).length, { timeout: 60_000, interval: 20 }).toBe(n + 1);
  }
  return ids;
}

describe("local mode (no GitHub configured, as `npm start` runs)", () => {
  it("after the hour's first writes, puts every event of a burst in the folder, each once, with no further request", async ({
    runtimeOf,
    tempDir,
  }) => {
    const dir = await tempDir("telemetry-local-burst-");
    // Small parts: the burst takes several files, so several writes.
    const runtime = runtimeOf({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_MAX_FILE_BYTES: "65536" });
    const ids = await landOneByOne(runtime, dir, 12);
    ids.push(...(await burst(runtime, 20, 600)));
    // No request after the burst: what lands now was started by the burst itself.
    await expect.poll(async () => (await storedIds(dir)).length, { timeout: 60_000, interval: 200 }).toBe(612);
    expect((await storedIds(dir)).sort()).toEqual(ids.sort());
  });

  it("is not paced like GitHub: past GitHub's burst of writes, the next write may still start at once", async ({
    runtimeOf,
    tempDir,
  }) => {
    const dir = await tempDir("telemetry-local-pace-");
    const runtime = runtimeOf({ TELEMETRY_LOCAL_DIR: dir });
    await landOneByOne(runtime, dir, 15);
    // Once the last run has let go of the lease, its state says when the next write may start.
    await expect.poll(async () => (await runtime.spool!.lease.read()).holder, { timeout: 60_000 }).toBeNull();
    const { resume_at } = await runtime.spool!.lease.read();
    expect(resume_at).toBeLessThanOrEqual(runtime.clock.now());
  });

  it("a run that runs out of time with events still waiting starts the next one in this process", async ({
    runtimeOf,
    spoolStore,
    tempDir,
  }) => {
    const dir = await tempDir("telemetry-local-hand-over-");
    // Reading an entry takes the clock 50 ms on: a run reads a chunk of them and its time is up.
    let offset = 0;
    const clock = { ...systemClock, now: () => Date.now() + offset };
    const store: BlobStore = spoolStore;
    const slow: BlobStore = {
      get: (key, options) => {
        if (key.startsWith("pending/")) offset += 50;
        return store.get(key, options);
      },
      setJSON: (key, value, options) => store.setJSON(key, value, options),
      delete: (key) => store.delete(key),
      list: (options) => store.list(options),
    };
    const runtime = runtimeOf({ TELEMETRY_LOCAL_DIR: dir }, { blobs: slow, clock });
    const ids: string[] = [];
    for (let n = 0; n < 300; n += 1) {
      // Accepted without waking a flush, as by a burst whose wake-ups found one under way.
      const response = await ingest(
        new Request("http://localhost:8888/api/v1/telemetry", { method: "POST", body: JSON.stringify(event(0, n)) }),
        { runtime },
      );
      expect(response.status).toBe(201);
      ids.push((await response.json()).event_id);
    }
    await runtime.spool!.startFlush("http://localhost:8888/api/v1/telemetry");
    await expect.poll(async () => (await storedIds(dir)).length, { timeout: 60_000, interval: 200 }).toBe(300);
    expect((await storedIds(dir)).sort()).toEqual(ids.sort());
  });

  it("health says degraded, not ok, when events wait and no flush is taking them", async ({ runtimeOf, tempDir }) => {
    const runtime = runtimeOf({ TELEMETRY_LOCAL_DIR: await tempDir("telemetry-local-health-") });
    // Accepted without waking a flush: nothing holds it back, nothing takes it.
    const response = await ingest(
      new Request("http://localhost:8888/api/v1/telemetry", { method: "POST", body: JSON.stringify(event(0, 0)) }),
      { runtime },
    );
    expect(response.status).toBe(201);
    const later = { ...runtime, clock: { ...runtime.clock, now: () => Date.now() + 3 * MINUTE_MS } };
    const health = await (await reportHealth(new Request("http://localhost:8888/api/v1/health"), later)).json();
    expect(health).toMatchObject({
      status: "degraded",
      reasons: [expect.objectContaining({ reason: "events_stalled" })],
      spool: { waiting_events: 1 },
    });
  });

  it("keeps the spools of two data folders apart, though every netlify dev of a checkout shares one Blobs sandbox", async ({
    blobs,
    tempDir,
  }) => {
    // The sandbox as netlify dev gives it to the functions: the environment's Blobs context.
    vi.stubEnv(
      "NETLIFY_BLOBS_CONTEXT",
      Buffer.from(
        JSON.stringify({ siteID: blobs.siteID, token: blobs.token, edgeURL: blobs.url, uncachedEdgeURL: blobs.url }),
      ).toString("base64"),
    );
    try {
      const [one, other] = [await tempDir("telemetry-local-one-"), await tempDir("telemetry-local-other-")];
      const first = createRuntime(loadConfig({ TELEMETRY_LOCAL_DIR: one })) as ReadyRuntime;
      const second = createRuntime(loadConfig({ TELEMETRY_LOCAL_DIR: other })) as ReadyRuntime;
      const response = await ingest(
        new Request("http://localhost:8888/api/v1/telemetry", { method: "POST", body: JSON.stringify(event(1, 1)) }),
        { runtime: first },
      );
      expect(response.status).toBe(201);
      const { event_id } = await response.json();
      // The other server's flush finds nothing of the first's, and its folder stays empty.
      expect(await second.spool!.flush(5000)).toMatchObject({ outcome: "idle", events: 0 });
      expect(await storedIds(other)).toEqual([]);
      expect(await first.spool!.flush(5000)).toMatchObject({ events: 1 });
      expect(await storedIds(one)).toEqual([event_id]);
      // A server on the same folder again (npm start run anew) finds what its last one left.
      const again = createRuntime(loadConfig({ TELEMETRY_LOCAL_DIR: one })) as ReadyRuntime;
      expect((await again.spool!.lease.read()).last_flush).toMatchObject({ events: 1 });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
