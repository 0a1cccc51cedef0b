import { readdir, readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { runCli } from "./support/run-cli.ts";
import { loadConfig } from "../lib/config.ts";
import { storedEventSchema, type StoredEvent } from "../lib/events/stored-event.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };
import type { FakeGitHub } from "./support/fake-github/index.ts";
import { describe, expect, it, test } from "./support/fixtures.ts";
import { startNetlifyDev, type NetlifyDev } from "./support/netlify-dev.ts";

const SLOW = 300_000;

/** Polls `read` until it returns something other than undefined, or fails after `timeoutMs` (a bound, not a speed). */
async function eventually<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const postEvent = (url: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${url}/api/v1/telemetry`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: signal ?? null,
  });

function todaysFile(dir: string): string {
  const [year, month, day] = new Date().toISOString().slice(0, 10).split("-");
  return join(dir, "telemetry", year!, month!, day!, "0001.ndjson");
}

describe("netlify dev with the local folder store (npm start without a token)", () => {
  let dev: NetlifyDev;
  let dir: string;

  test.beforeAll(async ({ tempDir }) => {
    dir = await tempDir("telemetry-dev-");
    dev = await startNetlifyDev({ TELEMETRY_LOCAL_DIR: dir });
  }, SLOW);
  test.afterAll(async () => {
    await dev?.stop();
  });

  it("refuses every caller of the flush function (the local store has no key: ingestion flushes in its own process)", async () => {
    const refused = await fetch(`${dev.url}/api/v1/jobs/flush`, { method: "POST" });
    expect(refused.status).toBe(401);
  });

  it("answers 201 once the event is in the spool, and the flush it starts puts the line in the day's file", async () => {
    const response = await postEvent(dev.url, seeds.app_launch_with_os);
    expect(response.status).toBe(201);
    const { status, event_id } = await response.json();
    expect(status).toBe("success");

    const text = await eventually(() => readFile(todaysFile(dir), "utf8").catch(() => undefined));
    const record = storedEventSchema.parse(JSON.parse(text));
    expect(record).toMatchObject({ ...seeds.app_launch_with_os, event_id, ip: "127.0.0.1" });

    const health = await eventually(async () => {
      const body = await (await fetch(`${dev.url}/api/v1/health`)).json();
      return body.spool?.last_flush ? body : undefined;
    });
    expect(health).toMatchObject({
      status: "ok",
      reasons: [],
      storage: "local",
      spool: { enabled: true, waiting_events: 0, oldest_waiting_age_s: null },
    });
    // No shared secret is set, so no caller is told where events go.
    expect(health).not.toHaveProperty("dir");
    expect(health.spool.last_flush).toMatchObject({ events: 1, commits: 1, files: 1, error: null });
  });

  it("answers only through the rate-limited redirect: the function's own URL, which no rule covers, is 404", async () => {
    const around = await fetch(`${dev.url}/.netlify/functions/telemetry`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...seeds.app_launch_minimal, event_name: "e2e.around_the_limit" }),
    });
    expect(around.status).toBe(404);
    expect(await around.json()).toMatchObject({ status: "error", error: "not_found" });
    const lines = (await readFile(todaysFile(dir), "utf8")).split("\n").filter(Boolean);
    expect(lines.some((line) => line.includes("e2e.around_the_limit"))).toBe(false);
  });

  it("answers refusals through the redirects and stores none of them", async () => {
    const empty = await fetch(`${dev.url}/api/v1/telemetry`, { method: "POST" });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ status: "error", error: "invalid_json" });
    const get = await fetch(`${dev.url}/api/v1/telemetry`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST, OPTIONS");
    const bad = await fetch(`${dev.url}/api/v1/telemetry`, {
      method: "POST",
      body: "{",
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: "error", error: "invalid_json" });
    const health = await (await fetch(`${dev.url}/api/v1/health`)).json();
    expect(health.spool.waiting_events).toBe(0);
    expect((await readFile(todaysFile(dir), "utf8")).split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("runs the hourly job on `telemetry publish`: rollups and the dashboard land in the local folder", async () => {
    const { code, stdout, stderr } = await runCli(["publish", "--json", "--url", dev.url], {
      TELEMETRY_LOCAL_DIR: dir,
    });
    expect(code, stderr).toBe(0);
    const [run] = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(run).toMatchObject({ outcome: "published", pending: 0, error: null });
    const day = new Date().toISOString().slice(0, 10);
    const rollup = JSON.parse(await readFile(join(dir, "rollups", day.slice(0, 4), `${day}.json`), "utf8"));
    expect(rollup).toMatchObject({ day, received: 1 });
    expect(await readFile(join(dir, "dashboard", "README.md"), "utf8")).toContain("# Telemetry dashboard");
  });

  it("540 events from 20 parallel clients: every one lands in the folder, each once, with no further request", async () => {
    const ids: string[] = [];
    const client = async (clientIndex: number) => {
      for (let eventIndex = 0; eventIndex < 27; eventIndex += 1) {
        const body = { hwid: `local-${clientIndex}`, event_name: "e2e.burst", app_version: "1.0.0" };
        const response = await postEvent(dev.url, body);
        expect(response.status).toBe(201);
        ids.push((await response.json()).event_id);
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, index) => client(index)));
    // Only the folder is read from here on: the burst's own requests must bring every event in.
    const burstLines = async () =>
      (await linesIn(join(dir, "telemetry"))).filter((line) => line.event_name === "e2e.burst");
    await eventually(async () => ((await burstLines()).length >= 540 ? true : undefined), 120_000);
    expect((await burstLines()).map((line) => line.event_id).sort()).toEqual(ids.sort());
    const health = await (await fetch(`${dev.url}/api/v1/health`)).json();
    expect(health).toMatchObject({ status: "ok", spool: { waiting_events: 0 } });
  });
});

describe("netlify dev with a GitHub token that GitHub refuses", () => {
  let dev: NetlifyDev;
  let github: { url: string };

  test.beforeAll(async ({ serveGitHub }) => {
    github = await serveGitHub({ token: "the-valid-token", empty: true });
    dev = await startNetlifyDev({
      GITHUB_TOKEN: "a-revoked-token",
      GITHUB_REPOSITORY: "acme/data",
      GITHUB_API_URL: github.url,
    });
  }, SLOW);
  test.afterAll(async () => {
    await dev?.stop();
  });

  it("keeps accepting events, and health answers 503 failing with the reason, for any uptime monitor to catch", async () => {
    expect((await postEvent(dev.url, seeds.app_launch_minimal)).status).toBe(201);
    const health = await eventually(async () => {
      const response = await fetch(`${dev.url}/api/v1/health`);
      if (response.status === 503) return response;
      await response.body?.cancel();
      return undefined;
    });
    const body = await health.json();
    expect(body.status).toBe("failing");
    expect(body.reasons).toContainEqual(
      expect.objectContaining({ reason: "writes_refused", message: expect.stringMatching(/credentials/) }),
    );
    expect(body.spool.waiting_events).toBe(1);
  });
});

describe("netlify dev with TELEMETRY_SPOOL=off", () => {
  let dev: NetlifyDev;
  let dir: string;

  test.beforeAll(async ({ tempDir }) => {
    dir = await tempDir("telemetry-dev-direct-");
    dev = await startNetlifyDev({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SPOOL: "off" });
  }, SLOW);
  test.afterAll(async () => {
    await dev?.stop();
  });

  it("writes the event to the store before answering 201", async () => {
    const response = await postEvent(dev.url, seeds.app_launch_minimal);
    expect(response.status).toBe(201);
    const { event_id } = await response.json();
    expect(storedEventSchema.parse(JSON.parse(await readFile(todaysFile(dir), "utf8"))).event_id).toBe(event_id);
    expect(await (await fetch(`${dev.url}/api/v1/health`)).json()).toMatchObject({
      storage: "local",
      spool: { enabled: false },
    });
  });
});

describe("netlify dev with GitHub (a stand-in on loopback enforcing 80 writes a minute, reached through GITHUB_API_URL)", () => {
  let dev: NetlifyDev;
  let fake: FakeGitHub;
  const github = { url: "" };

  test.beforeAll(async ({ serveGitHub }) => {
    ({ fake, url: github.url } = await serveGitHub({
      token: "dev-token",
      empty: true,
      latencyMs: [100, 300],
      writesPerMinute: 80,
      writesPerHour: 500,
    }));
    dev = await startNetlifyDev({
      GITHUB_TOKEN: "dev-token",
      GITHUB_REPOSITORY: "acme/data",
      GITHUB_API_URL: github.url,
    });
  }, SLOW);
  test.afterAll(async () => {
    await dev?.stop();
  });

  const storedLines = () =>
    fake
      .paths()
      .filter((path) => path.endsWith(".ndjson"))
      .flatMap((path) => (fake.file(path) ?? "").split("\n").filter(Boolean))
      .map((line) => storedEventSchema.parse(JSON.parse(line)));

  it("starts a flush only for a caller with the flush key, which the service derives from its token when no secret is set", async () => {
    const call = (headers: Record<string, string> = {}) =>
      fetch(`${dev.url}/api/v1/jobs/flush`, { method: "POST", headers });
    const guesses: Record<string, string>[] = [
      {},
      { "x-telemetry-key": "a-guess-at-the-key" },
      { authorization: "Bearer dev-token" },
    ];
    for (const headers of guesses) {
      const refused = await call(headers);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: "unauthorized" });
    }
    const key = loadConfig({ GITHUB_TOKEN: "dev-token", GITHUB_REPOSITORY: "acme/data" }).flushKey!;
    expect((await call({ "x-telemetry-key": key })).status).toBe(202);
  });

  it(
    "stores each seed example in GitHub as specified",
    async () => {
      const { about: _about, model_metadata_export_file: _export, ...examples } = seeds;
      for (const example of Object.values(examples)) {
        const response = await postEvent(dev.url, example);
        expect(response.status).toBe(201);
        const { event_id } = await response.json();
        const stored = await eventually(() => storedLines().find((line) => line.event_id === event_id));
        expect(stored).toMatchObject({ ...example, metadata: "metadata" in example ? example.metadata : {} });
      }
      const health = await fetch(`${dev.url}/api/v1/health`);
      expect(health.status).toBe(200);
      const body = await health.json();
      expect(body).toMatchObject({ status: "ok", reasons: [], storage: "github" });
      expect(body).not.toHaveProperty("repository");
    },
    SLOW,
  );

  it("800 events from 40 parallel clients: all answered 201, each in GitHub exactly once", async () => {
    const before = storedLines().length;
    const statuses: number[] = [];
    const ids: string[] = [];
    const client = async (clientIndex: number) => {
      for (let eventIndex = 0; eventIndex < 20; eventIndex += 1) {
        const body = {
          hwid: `client-${clientIndex}`,
          event_name: "app_launch",
          app_version: "1.0.0",
          metadata: { n: eventIndex },
        };
        // One event per request, as the real client sends; how fast it is answered is the bench's figure.
        const response = await postEvent(dev.url, body);
        statuses.push(response.status);
        if (response.status === 201) ids.push((await response.json()).event_id);
      }
    };
    await Promise.all(Array.from({ length: 40 }, (_, index) => client(index)));
    expect(statuses.filter((status) => status !== 201)).toEqual([]);

    await eventually(() => (storedLines().length - before >= 800 ? true : undefined), 240_000).catch(
      async (error: unknown) => {
        // Say where the events are: the spool's state and what the functions logged last.
        const health = await (await fetch(`${dev.url}/api/v1/health`)).text();
        throw new Error(
          `${String(error)}; ${storedLines().length - before} landed; health: ${health}\n${dev.output().slice(-4000)}`,
        );
      },
    );
    const counts = new Map<string, number>();
    for (const line of storedLines()) counts.set(line.event_id, (counts.get(line.event_id) ?? 0) + 1);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
    expect(storedLines().length - before).toBe(800);
    // Paced below the stand-in's limit: it never had to refuse a write.
    expect(fake.requests.filter((request) => request.status === 403 || request.status === 429)).toEqual([]);
  }, 300_000);

  it(
    "publishes only for a caller with the flush key: `telemetry publish` derives it from the same token, and commits once",
    async () => {
      const refused = await fetch(`${dev.url}/api/v1/jobs/publish`, { method: "POST" });
      expect(refused.status).toBe(401);
      const published = () => fake.commits.filter((commit) => commit.message.startsWith("Roll up telemetry"));
      expect(published()).toEqual([]);
      const publish = async () => {
        const { code, stdout, stderr } = await runCli(["publish", "--json", "--url", dev.url], {
          GITHUB_TOKEN: "dev-token",
          GITHUB_REPOSITORY: "acme/data",
          GITHUB_API_URL: github.url,
        });
        expect(code, stderr).toBe(0);
        const [run] = stdout.trim().split("\n");
        return JSON.parse(run!) as { outcome: string; error: string | null };
      };
      // A flush still holding the lease (or the minute's writes) makes the job wait its turn: it is asked again.
      const run = await eventually(async () => {
        const answer = await publish();
        return answer.outcome === "busy" || answer.outcome === "paced" ? undefined : answer;
      }, 90_000);
      expect(run).toMatchObject({ outcome: "published", error: null });
      // A flush may commit beside it: count the job's own commits, not the branch's.
      expect(published()).toHaveLength(1);
      expect(published()[0]!.paths).toEqual(expect.arrayContaining(["dashboard/README.md", "rollups/index.json"]));
      const day = new Date().toISOString().slice(0, 10);
      expect(JSON.parse(fake.file(`rollups/${day.slice(0, 4)}/${day}.json`)!).received).toBe(storedLines().length);
    },
    SLOW,
  );
});

/** Every line of every NDJSON file under `dir`, parsed (and so checked) as a stored record. */
async function linesIn(dir: string): Promise<StoredEvent[]> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((entry) =>
    entry.isFile(),
  );
  const texts = await Promise.all(files.map((file) => readFile(join(file.parentPath, file.name), "utf8")));
  return texts
    .flatMap((text) => text.split("\n").filter(Boolean))
    .map((line) => storedEventSchema.parse(JSON.parse(line)));
}

describe("netlify dev: the full ingest protocol, as an independent client sees it", () => {
  const SECRET = "an-e2e-shared-secret";
  const ADMIN_KEY = "an-e2e-operator-key-of-32-characters";
  const ORIGIN = "https://app.example.com";
  let dev: NetlifyDev;
  let dir: string;

  test.beforeAll(async ({ tempDir }) => {
    dir = await tempDir("telemetry-dev-protocol-");
    dev = await startNetlifyDev({
      TELEMETRY_LOCAL_DIR: dir,
      TELEMETRY_SECRET: SECRET,
      TELEMETRY_ADMIN_KEY: ADMIN_KEY,
      TELEMETRY_ALLOWED_ORIGINS: ORIGIN,
      TELEMETRY_IP_MODE: "hash",
      TELEMETRY_IP_SALT: "an-e2e-salt-of-some-length",
    });
  }, SLOW);
  test.afterAll(async () => {
    await dev?.stop();
  });

  const send = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${dev.url}/api/v1/telemetry`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telemetry-key": SECRET, ...headers },
      body: body as BodyInit,
    });
  const event = (name: string, extra: Record<string, unknown> = {}) => ({
    hwid: "e2e-install",
    event_name: name,
    app_version: "2.0.0",
    ...extra,
  });
  /** The stored records of events named `name`, once there are `count` of them. */
  const landed = (name: string, count: number) =>
    eventually(async () => {
      const lines = (await linesIn(dir)).filter((line) => line.event_name === name);
      return lines.length >= count ? lines : undefined;
    });

  it("runs jobs for the operator's key only: the app's secret is 401 on every job, a function's own path 404, and health names the folder to the operator only", async () => {
    const job = (path: string, key: string) =>
      fetch(`${dev.url}${path}`, { method: "POST", headers: { "x-telemetry-key": key } });
    // erase-background is a background function, which Netlify answers 202 itself: endpoints.test.ts checks its refusal.
    for (const path of ["/api/v1/jobs/publish", "/api/v1/jobs/retention", "/api/v1/jobs/flush"]) {
      const refused = await job(path, SECRET);
      expect({ path, status: refused.status }).toEqual({ path, status: 401 });
    }
    expect((await job("/.netlify/functions/publish", ADMIN_KEY)).status).toBe(404);
    expect((await job("/api/v1/jobs/flush", ADMIN_KEY)).status).toBe(202);
    const health = (key: string) => fetch(`${dev.url}/api/v1/health`, { headers: { "x-telemetry-key": key } });
    expect(await (await health(SECRET)).json()).not.toHaveProperty("dir");
    expect(await (await health(ADMIN_KEY)).json()).toMatchObject({ dir });
  });

  it("refuses a request without the secret, with 401 JSON, and stores nothing", async () => {
    const response = await fetch(`${dev.url}/api/v1/telemetry`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(event("e2e.no_secret")),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ status: "error", error: "unauthorized" });
    expect(
      (await send(JSON.stringify(event("e2e.wrong_secret")), { "x-telemetry-key": "not-the-secret-at-all" })).status,
    ).toBe(401);
    const bearer = await send(JSON.stringify(event("e2e.bearer")), {
      "x-telemetry-key": "",
      authorization: `Bearer ${SECRET}`,
    });
    expect(bearer.status).toBe(201);
    await landed("e2e.bearer", 1);
    expect((await linesIn(dir)).filter((line) => line.event_name.endsWith("_secret"))).toEqual([]);
  });

  it("answers a CORS preflight from an allowed origin with what a browser needs, and one from another origin without", async () => {
    const preflight = (origin: string) =>
      fetch(`${dev.url}/api/v1/telemetry`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,x-telemetry-key",
        },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(allowed.headers.get("access-control-allow-headers")).toContain("x-telemetry-key");
    const other = await preflight("https://elsewhere.example");
    expect(other.status).toBe(204);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses a POST from a page of another origin with 403 JSON, storing nothing, and takes one from the allowed origin", async () => {
    const other = await send(JSON.stringify(event("e2e.other_origin")), {
      origin: "https://elsewhere.example",
      "content-type": "text/plain",
    });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ status: "error", error: "origin_not_allowed" });
    const allowed = await send(JSON.stringify(event("e2e.allowed_origin")), { origin: ORIGIN });
    expect(allowed.status).toBe(201);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    await landed("e2e.allowed_origin", 1);
    expect((await linesIn(dir)).filter((line) => line.event_name === "e2e.other_origin")).toEqual([]);
  });

  it("answers an uncompressed body over 1 MiB with 413 wire_bytes, as the README promises", async () => {
    const text = JSON.stringify(event("e2e.too_big"));
    const response = await send(text + " ".repeat(2 * 1024 * 1024 - text.length));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: "payload_too_large", limit: "wire_bytes" });
  });

  it("stores batches of every shape: an array, {events}, NDJSON and the model-metadata export file", async () => {
    expect((await send(JSON.stringify([event("e2e.array"), event("e2e.array")]))).status).toBe(201);
    expect((await send(JSON.stringify({ events: [event("e2e.object"), event("e2e.object")] }))).status).toBe(201);
    const ndjson = `${JSON.stringify(event("e2e.ndjson"))}\n\n${JSON.stringify(event("e2e.ndjson"))}\n`;
    expect((await send(ndjson, { "content-type": "application/x-ndjson" })).status).toBe(201);
    const exported = await send(JSON.stringify(seeds.model_metadata_export_file));
    expect(await exported.json()).toMatchObject({ status: "success", accepted: 1, rejected: [] });

    expect(await landed("e2e.array", 2)).toHaveLength(2);
    expect(await landed("e2e.object", 2)).toHaveLength(2);
    expect(await landed("e2e.ndjson", 2)).toHaveLength(2);
    const [model] = await landed("model_registration", 1);
    const { event_type: _type, ...fields } = seeds.model_metadata_export_file.events[0]!;
    expect(model).toMatchObject({
      hwid: seeds.model_metadata_export_file.client_id,
      app_version: "unknown",
      metadata: fields,
    });
    expect(model!.client_timestamp).toBe("2026-01-23T12:34:56.000Z");
  });

  it("takes a gzip body", async () => {
    const body = gzipSync(JSON.stringify([event("e2e.gzip"), event("e2e.gzip"), event("e2e.gzip")]));
    const response = await send(body, { "content-encoding": "gzip" });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ accepted: 3 });
    expect(await landed("e2e.gzip", 3)).toHaveLength(3);
  });

  it("stores the valid events of a batch and says which others were rejected and why", async () => {
    const response = await send(
      JSON.stringify([event("e2e.partial"), { hwid: "x", event_name: "e2e.partial" }, event("e2e.partial")]),
    );
    expect(response.status).toBe(201);
    const answer = await response.json();
    expect(answer).toMatchObject({
      status: "success",
      accepted: 2,
      rejected: [{ index: 1, issues: [{ path: "app_version" }] }],
    });
    expect(await landed("e2e.partial", 2)).toHaveLength(2);
    const none = await send(JSON.stringify([{ hwid: "x" }, { event_name: "y" }]));
    expect(none.status).toBe(400);
    expect((await none.json()).rejected.map((item: { index: number }) => item.index)).toEqual([0, 1]);
  });

  it("stores a replayed event_id once, replayed before and after its flush", async () => {
    const eventId = "5f0c4a3e-9d2b-4c1a-8e7f-0a1b2c3d4e5f";
    const replayed = event("e2e.replay", { event_id: eventId });
    expect((await send(JSON.stringify(replayed))).status).toBe(201);
    expect((await send(JSON.stringify(replayed))).status).toBe(201);
    await landed("e2e.replay", 1);
    expect((await send(JSON.stringify(replayed))).status).toBe(201);
    expect((await send(JSON.stringify(event("e2e.replay_marker")))).status).toBe(201);
    await landed("e2e.replay_marker", 1);
    const copies = (await linesIn(dir)).filter((line) => line.event_name === "e2e.replay");
    expect(copies.map((line) => line.event_id)).toEqual([eventId]);
  });

  it("keeps the client address as a keyed hash, never as the address", async () => {
    expect((await send(JSON.stringify(event("e2e.ip")))).status).toBe(201);
    const [line] = await landed("e2e.ip", 1);
    expect(line!.ip).toMatch(/^[0-9a-f]{16}$/);
  });

  it("scrubs a real client's traceback: user names, e-mail addresses and keys gone, its lines kept", async () => {
    const traceback = [
      "Traceback (most recent call last):",
      '  File "/home/alice/.local/lib/python3.12/site-packages/vector_inspector/core/connections/qdrant.py", line 88, in connect',
      "    client = QdrantClient(url=url, api_key=api_key)",
      '  File "C:\\Users\\Bob Smith\\AppData\\Local\\Programs\\vector-inspector\\main.py", line 12, in <module>',
      "ConnectionError: 401 for alice@example.com with key sk-proj-abcdefghijklmnopqrstuvwx",
    ].join("\n");
    const body = event("UncaughtException", {
      metadata: {
        message: "401 for alice@example.com",
        traceback,
        exception_type: "ConnectionError",
        api_key: "qdrant-key-123",
      },
    });
    expect((await send(JSON.stringify(body))).status).toBe(201);
    const [line] = await landed("UncaughtException", 1);
    const metadata = line!.metadata as Record<string, string>;
    expect(metadata.traceback!.split("\n")).toHaveLength(5);
    expect(metadata.traceback).toContain(
      'File "/home/[user]/.local/lib/python3.12/site-packages/vector_inspector/core/connections/qdrant.py", line 88',
    );
    expect(metadata.traceback).toContain("C:\\Users\\[user]\\AppData");
    expect(metadata.traceback).toContain("401 for [email] with key [REDACTED]");
    expect(metadata).toMatchObject({
      message: "401 for [email]",
      api_key: "[REDACTED]",
      exception_type: "ConnectionError",
    });
    expect(JSON.stringify(line)).not.toMatch(/alice|Bob Smith|sk-proj|qdrant-key-123/);
    expect(line!.redactions).toBe(6);
  });

  it("serves the JSON Schema and the OpenAPI document at /api/v1/schema", async () => {
    const schema = await fetch(`${dev.url}/api/v1/schema`);
    expect(schema.status).toBe(200);
    expect(await schema.json()).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: "Telemetry request body",
    });
    const openapi = await fetch(`${dev.url}/api/v1/schema/openapi.json`);
    expect(await openapi.json()).toMatchObject({ openapi: "3.1.0", paths: { "/api/v1/telemetry": {} } });
  });

  it("erases an install on its own request: 202 with an id, the status moves to done, its lines are gone", async () => {
    for (const hwid of ["erase-me", "erase-me", "keep-me"]) {
      expect((await send(JSON.stringify(event("e2e.erasure", { hwid })))).status).toBe(201);
    }
    await landed("e2e.erasure", 3);
    const ask = (body: string, headers: Record<string, string> = { "x-telemetry-key": SECRET }) =>
      fetch(`${dev.url}/api/v1/erasure`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });

    expect((await ask(JSON.stringify({ hwid: "erase-me" }), {})).status).toBe(401);
    const empty = await ask("{}");
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({
      status: "error",
      error: "invalid_request",
      message: expect.stringContaining("hwid"),
    });
    expect((await ask("{")).status).toBe(400);
    expect(
      (await fetch(`${dev.url}/api/v1/erasure/not-an-id`, { headers: { "x-telemetry-key": SECRET } })).status,
    ).toBe(404);

    const accepted = await ask(JSON.stringify({ hwid: "erase-me" }));
    expect(accepted.status).toBe(202);
    const { request_id, status_url } = await accepted.json();
    expect(status_url).toBe(`/api/v1/erasure/${request_id}`);
    const done = await eventually(async () => {
      const answer = await (await fetch(`${dev.url}${status_url}`, { headers: { "x-telemetry-key": SECRET } })).json();
      return answer.status === "done" ? answer : undefined;
    });
    expect(done).toMatchObject({ request_id, status: "done", lines_removed: 2 });
    const left = (await linesIn(dir)).filter((line) => line.event_name === "e2e.erasure");
    expect(left.map((line) => line.hwid)).toEqual(["keep-me"]);
  });
});

describe.each(["truncate", "off"] as const)("netlify dev with TELEMETRY_IP_MODE=%s", (mode) => {
  let dev: NetlifyDev;
  let dir: string;

  test.beforeAll(async ({ tempDir }) => {
    dir = await tempDir(`telemetry-dev-ip-${mode}-`);
    dev = await startNetlifyDev({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_IP_MODE: mode });
  }, SLOW);
  test.afterAll(async () => {
    await dev?.stop();
  });

  it("stores the client address as the mode keeps it", async () => {
    expect((await postEvent(dev.url, seeds.app_launch_minimal)).status).toBe(201);
    const [line] = await eventually(async () => {
      const lines = await linesIn(dir);
      return lines.length > 0 ? lines : undefined;
    });
    // netlify dev sees the loopback client as 127.0.0.1.
    expect(line!.ip).toBe(mode === "truncate" ? "127.0.0.0" : null);
  });
});
