import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedEventSchema } from "../lib/event.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };
import { FakeGitHub, serveFakeGitHub } from "./support/fake-github.ts";
import { startNetlifyDev, type NetlifyDev } from "./support/netlify-dev.ts";

const SLOW = 180_000;

/** Polls `read` until it returns something other than undefined, or fails after `timeoutMs`. */
async function eventually<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const postEvent = (url: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${url}/api/v1/telemetry`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });

function todaysFile(dir: string): string {
  const [year, month, day] = new Date().toISOString().slice(0, 10).split("-");
  return join(dir, "telemetry", year!, month!, `${day}.ndjson`);
}

describe("netlify dev with the local folder store (npm start without a token)", () => {
  let dev: NetlifyDev;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "telemetry-dev-"));
    dev = await startNetlifyDev({ TELEMETRY_LOCAL_DIR: dir });
  }, SLOW);
  afterAll(async () => {
    await dev?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers 201 once the event is in the spool, and the flush it starts puts the line in the day's file within seconds", async () => {
    const response = await postEvent(dev.url, seeds.app_launch_with_os);
    expect(response.status).toBe(201);
    const { status, event_id } = await response.json();
    expect(status).toBe("success");

    const text = await eventually(() => readFile(todaysFile(dir), "utf8").catch(() => undefined), 5000);
    const record = storedEventSchema.parse(JSON.parse(text));
    expect(record).toMatchObject({ ...seeds.app_launch_with_os, event_id, ip: "127.0.0.1" });

    const health = await eventually(async () => {
      const body = await (await fetch(`${dev.url}/api/v1/health`)).json();
      return body.spool?.last_flush ? body : undefined;
    });
    expect(health).toMatchObject({ status: "ok", storage: "local", dir, spool: { enabled: true, waiting_events: 0, oldest_waiting_age_s: null } });
    expect(health.spool.last_flush).toMatchObject({ events: 1, commits: 1, files: 1, error: null });
  }, 20_000);

  it("answers refusals through the redirects and stores none of them", async () => {
    const get = await fetch(`${dev.url}/api/v1/telemetry`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST, OPTIONS");
    const bad = await fetch(`${dev.url}/api/v1/telemetry`, { method: "POST", body: "{", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: "error", error: "invalid_json" });
    const health = await (await fetch(`${dev.url}/api/v1/health`)).json();
    expect(health.spool.waiting_events).toBe(0);
    expect((await readFile(todaysFile(dir), "utf8")).split("\n").filter(Boolean)).toHaveLength(1);
  });
});

describe("netlify dev with TELEMETRY_SPOOL=off", () => {
  let dev: NetlifyDev;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "telemetry-dev-direct-"));
    dev = await startNetlifyDev({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SPOOL: "off" });
  }, SLOW);
  afterAll(async () => {
    await dev?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the event to the store before answering 201", async () => {
    const response = await postEvent(dev.url, seeds.app_launch_minimal);
    expect(response.status).toBe(201);
    const { event_id } = await response.json();
    expect(storedEventSchema.parse(JSON.parse(await readFile(todaysFile(dir), "utf8"))).event_id).toBe(event_id);
    expect(await (await fetch(`${dev.url}/api/v1/health`)).json()).toMatchObject({ storage: "local", spool: { enabled: false } });
  });
});

describe("netlify dev with GitHub (a stand-in on loopback enforcing 80 writes a minute, reached through GITHUB_API_URL)", () => {
  let dev: NetlifyDev;
  let fake: FakeGitHub;
  let github: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    fake = new FakeGitHub({ owner: "acme", repo: "data", token: "dev-token", empty: true, latencyMs: [100, 300], writesPerMinute: 80, writesPerHour: 500 });
    github = await serveFakeGitHub(fake);
    dev = await startNetlifyDev({ GITHUB_TOKEN: "dev-token", GITHUB_REPOSITORY: "acme/data", GITHUB_API_URL: github.url });
  }, SLOW);
  afterAll(async () => {
    await dev?.stop();
    await github?.close();
  });

  const storedLines = () =>
    fake
      .paths()
      .flatMap((path) => (fake.file(path) ?? "").split("\n").filter(Boolean))
      .map((line) => storedEventSchema.parse(JSON.parse(line)));

  it("stores each seed example in GitHub as specified", async () => {
    const { about: _about, model_metadata_export_file: _export, ...examples } = seeds;
    for (const example of Object.values(examples)) {
      const response = await postEvent(dev.url, example);
      expect(response.status).toBe(201);
      const { event_id } = await response.json();
      const stored = await eventually(() => storedLines().find((line) => line.event_id === event_id));
      expect(stored).toMatchObject({ ...example, metadata: "metadata" in example ? example.metadata : {} });
    }
    expect(await (await fetch(`${dev.url}/api/v1/health`)).json()).toMatchObject({ storage: "github", repository: "acme/data" });
  }, SLOW);

  it("800 events from 40 parallel clients: all answered 201 in under 1 s at the 99th percentile, each in GitHub exactly once within two minutes", async () => {
    const started = Date.now();
    const before = storedLines().length;
    const latencies: number[] = [];
    const statuses: number[] = [];
    const ids: string[] = [];
    const client = async (clientIndex: number) => {
      for (let eventIndex = 0; eventIndex < 20; eventIndex += 1) {
        const body = { hwid: `client-${clientIndex}`, event_name: "app_launch", app_version: "1.0.0", metadata: { n: eventIndex } };
        const sent = performance.now();
        // As the real client: one event per request, and it gives up after 5 s.
        const response = await postEvent(dev.url, body, AbortSignal.timeout(5000));
        latencies.push(performance.now() - sent);
        statuses.push(response.status);
        if (response.status === 201) ids.push((await response.json()).event_id);
      }
    };
    await Promise.all(Array.from({ length: 40 }, (_, index) => client(index)));

    expect(statuses.filter((status) => status !== 201)).toEqual([]);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1]!;
    console.log(`800 events: ack p50 ${latencies[399]!.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);
    expect(p99).toBeLessThan(1000);

    await eventually(() => (storedLines().length - before >= 800 ? true : undefined), 120_000 - (Date.now() - started)).catch(
      async (error: unknown) => {
        // Say where the events are: the spool's state and what the functions logged last.
        const health = await (await fetch(`${dev.url}/api/v1/health`)).text();
        throw new Error(`${String(error)}; ${storedLines().length - before} landed; health: ${health}\n${dev.output().slice(-4000)}`);
      },
    );
    const counts = new Map<string, number>();
    for (const line of storedLines()) counts.set(line.event_id, (counts.get(line.event_id) ?? 0) + 1);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
    expect(storedLines().length - before).toBe(800);
    // Paced below the stand-in's limit: it never had to refuse a write.
    expect(fake.requests.filter((request) => request.status === 403 || request.status === 429)).toEqual([]);
    console.log(`landed within ${((Date.now() - started) / 1000).toFixed(1)} s in ${fake.writeCount()} commits`);
  }, 300_000);
});
