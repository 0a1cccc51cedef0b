import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { getStore } from "@netlify/blobs";
import { systemClock } from "../lib/clock.ts";
import { loadConfig } from "../lib/config.ts";
import { reportHealth } from "../lib/http/endpoints/report-health.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { SPOOL_STORE_NAME } from "../lib/platform/spool-blobs.ts";
import { createRuntime, type Runtime } from "../lib/runtime.ts";
import type { BlobStore } from "../lib/spool/blob-store.ts";
import type { LocalBlobs } from "./support/blobs.ts";
import { describe, expect, it, test } from "./support/fixtures.ts";

let blobs: LocalBlobs;
/** This test's store on the file's Blobs server. */
let spoolStore: BlobStore;
let dir: string;
let runtime: Runtime & { ok: true };

test.beforeEach(async ({ blobs: server, spoolStore: store, tempDir }) => {
  blobs = server;
  spoolStore = store;
  dir = await tempDir("telemetry-spool-ingest-");
  runtime = createRuntime(loadConfig({ TELEMETRY_LOCAL_DIR: dir }), { blobs: spoolStore }) as Runtime & { ok: true };
});

const post = (body: unknown, startFlush?: () => Promise<void>, target: Runtime = runtime) =>
  ingest(
    new Request("http://localhost/api/v1/telemetry", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    { runtime: target, platformIp: "203.0.113.7", startFlush },
  );

const event = (n: number) => ({ hwid: "h", event_name: "app_launch", app_version: "1.0.0", metadata: { n } });

async function storedLines(): Promise<string[]> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  const texts = await Promise.all(files.map((file) => readFile(join(file.parentPath, file.name), "utf8")));
  return texts.flatMap((text) => text.split("\n").filter(Boolean));
}

describe("ingest with the spool", () => {
  it("answers 201 once the event is in the spool, before anything reaches the store", async () => {
    const response = await post(event(1));
    expect(response.status).toBe(201);
    expect(await runtime.spool!.spool.depth()).toMatchObject({ entries: 1, events: 1 });
    expect(await storedLines()).toEqual([]);

    await runtime.spool!.flush(5000);
    const [line] = await storedLines();
    expect(JSON.parse(line!)).toMatchObject({
      event_id: (await response.json()).event_id,
      ip: "203.0.113.7",
      metadata: { n: 1 },
    });
  });

  it("wakes one flush for a burst of requests, not one per request", async () => {
    let wakes = 0;
    const start = async () => {
      wakes += 1;
    };
    const answers = await Promise.all(Array.from({ length: 30 }, (_, n) => post(event(n), start)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(201));
    expect(wakes).toBe(1);
  });

  it("flushes an event accepted while another flusher held the lease once that one is done, with no later request", async () => {
    const other = createRuntime(loadConfig({ TELEMETRY_LOCAL_DIR: dir }), { blobs: spoolStore }) as Runtime & {
      ok: true;
    };
    const held = await other.spool!.lease.acquire();
    expect(held).toBeDefined();
    const response = await post(event(1), async () => {
      void runtime.spool!.flush(5000);
    });
    expect(response.status).toBe(201);
    // The other flusher stops without having seen the event (its listing came before it, or was cut short).
    await other.spool!.lease.release(held!);
    await expect.poll(storedLines, { timeout: 60_000, interval: 100 }).toHaveLength(1);
    expect(await runtime.spool!.spool.depth()).toMatchObject({ entries: 0 });
  });

  it("answers 503 with Retry-After, and keeps nothing, when the spool cannot be written", async () => {
    const unreachable = getStore({
      name: SPOOL_STORE_NAME,
      siteID: blobs.siteID,
      token: "wrong-token",
      edgeURL: blobs.url,
      uncachedEdgeURL: blobs.url,
    });
    const broken = createRuntime(loadConfig({ TELEMETRY_LOCAL_DIR: dir }), { blobs: unreachable });
    const response = await post(event(1), undefined, broken);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await response.json()).toMatchObject({ status: "error", error: "storage_unavailable" });
    expect(await runtime.spool!.spool.depth()).toMatchObject({ entries: 0 });
  });

  it("reports the spool in health: waiting events, the oldest one's age, and the last flush", async () => {
    await post(event(1));
    await post(event(2));
    const waiting = await (
      await reportHealth(new Request("http://localhost/api/v1/health"), {
        ...runtime,
        clock: { ...systemClock, now: () => Date.now() + 30_000 },
      })
    ).json();
    expect(waiting.spool).toMatchObject({
      enabled: true,
      waiting_events: 2,
      waiting_entries: 2,
      flushing: false,
      last_flush: null,
    });
    expect(waiting.spool.oldest_waiting_age_s).toBeGreaterThanOrEqual(29);

    await runtime.spool!.flush(5000);
    const flushed = await (await reportHealth(new Request("http://localhost/api/v1/health"), runtime)).json();
    expect(flushed.spool).toMatchObject({ waiting_events: 0, oldest_waiting_age_s: null, writes_last_hour: 1 });
    expect(flushed.spool.last_flush).toMatchObject({ events: 2, commits: 1, files: 1, error: null });
  });
});

describe("starting a flush", () => {
  it("calls the flush function at the deploy's own URL with the flush key, whatever Host the client's request named", async () => {
    const calls: { path: string; key: string | undefined }[] = [];
    const server = createServer((request, response) => {
      calls.push({ path: request.url ?? "", key: request.headers["x-telemetry-key"] as string | undefined });
      response.writeHead(202).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const site = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const key = "an-operator-key-of-at-least-32-characters";
      const config = loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_ADMIN_KEY: key, URL: site });
      const own = createRuntime(config, { blobs: spoolStore }) as Runtime & { ok: true };
      await own.spool!.startFlush("http://attacker.example/api/v1/telemetry");
      expect(calls).toEqual([{ path: "/api/v1/jobs/flush", key }]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("without a flush key (the local store), flushes in this process and calls nothing", async () => {
    expect(runtime.flushKey).toBeUndefined();
    expect((await post(event(1))).status).toBe(201);
    await runtime.spool!.startFlush("http://127.0.0.1:9/unreachable");
    await eventuallyStored(1);
  });
});

async function eventuallyStored(count: number): Promise<void> {
  await expect
    .poll(async () => (await storedLines()).length, { timeout: 60_000, interval: 50 })
    .toBeGreaterThanOrEqual(count);
}
