import { systemClock } from "../lib/clock.ts";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { generateKeyPairSync } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig, type GitHubConfig } from "../lib/config.ts";
import { storedEventSchema, toStoredEvent, type StoredEvent } from "../lib/events/stored-event.ts";
import { GitHubAdapter } from "../lib/storage/github/github-adapter.ts";
import { GitHubStore } from "../lib/storage/github/github-store.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { appendEvents, StoreUnavailableError, type EventStore } from "../lib/storage/event-store.ts";
import { FakeGitHub, githubHandlers } from "./support/fake-github/index.ts";

const API = "https://api.github.com";
const TOKEN = "test-token-do-not-leak";
const DAY_FILE = "telemetry/2026/11/22/0001.ndjson";
const MIB = 1024 * 1024;

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

let fake: FakeGitHub;
function useFake(options: ConstructorParameters<typeof FakeGitHub>[0] = {}, baseUrl = API) {
  fake = new FakeGitHub({ owner: "acme", repo: "data", token: TOKEN, ...options });
  server.use(...githubHandlers(fake, baseUrl));
  return fake;
}

function config(overrides: Partial<GitHubConfig> = {}): GitHubConfig {
  return {
    credentials: { kind: "token", token: TOKEN },
    owner: "acme",
    repo: "data",
    branch: undefined,
    apiUrl: API,
    ...overrides,
  };
}

function newStore(overrides: Partial<GitHubConfig> = {}, maxFileBytes = MIB) {
  return new GitHubStore(new GitHubAdapter(config(overrides)), "telemetry", maxFileBytes);
}

function event(createdAt = "2026-11-22T10:00:00.000Z", metadata: Record<string, unknown> = {}): StoredEvent {
  return toStoredEvent(
    { hwid: "a1b2c3d4", event_name: "app_launch", app_version: "1.2.3", client_type: "vector-inspector", metadata },
    { eventId: uuidv7(), createdAt: new Date(createdAt), ip: "203.0.113.7" },
  );
}

const soon = () => Date.now() + 4000;
const append = (store: EventStore, events: StoredEvent[], deadline: number) =>
  appendEvents(store, events, { deadline });

function linesOf(path: string, branch?: string): StoredEvent[] {
  const text = fake.file(path, branch) ?? "";
  expect(text.endsWith("\n") || text === "").toBe(true);
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => storedEventSchema.parse(JSON.parse(line)));
}

describe("GitHubStore against GitHub's contents API", () => {
  it("creates the day's file in an empty repository, then appends to it with the sha it read", async () => {
    useFake({ empty: true });
    const store = newStore();
    const first = event();
    const second = event();
    await append(store, [first], soon());
    await append(store, [second], soon());

    expect(linesOf(DAY_FILE).map((line) => line.event_id)).toEqual([first.event_id, second.event_id]);
    expect(fake.commits.map((commit) => commit.message)).toEqual([
      "Append 1 telemetry event for 2026-11-22",
      "Append 1 telemetry event for 2026-11-22",
    ]);
  });

  it("sends each write itself, paced: a failed write is planned and paced again, never sent again behind the pacer's back", async () => {
    let drops = 1;
    useFake({ empty: true, beforeWrite: () => (drops-- > 0 ? "drop" : undefined) });
    const store = newStore();
    let paced = 0;
    const result = await store.commit([[event()]], {
      deadline: soon(),
      beforeWrite: async () => {
        paced += 1;
      },
    });
    expect(result.events).toBe(1);
    const puts = fake.requests.filter((request) => request.method === "PUT").length;
    expect(puts).toBe(2);
    expect(paced).toBe(2);
    expect(linesOf(DAY_FILE)).toHaveLength(1);
  });

  it("writes each event of a batch once, in one commit per file, split by UTC day", async () => {
    useFake();
    const events = [
      event("2026-11-22T23:59:59.999Z"),
      event("2026-11-22T23:59:59.999Z"),
      event("2026-11-23T00:00:00.000Z"),
    ];
    await append(newStore(), events, soon());
    expect(linesOf(DAY_FILE)).toHaveLength(2);
    expect(linesOf("telemetry/2026/11/23/0001.ndjson")).toHaveLength(1);
    expect(fake.commits.map((commit) => commit.message)).toEqual([
      "Append 2 telemetry events for 2026-11-22",
      "Append 1 telemetry event for 2026-11-23",
    ]);
  });

  it("keeps whole lines when the file's last line has no newline", async () => {
    useFake();
    fake.seed(DAY_FILE, '{"hand":"edited"}');
    const added = event();
    await append(newStore(), [added], soon());
    expect(fake.file(DAY_FILE)).toBe(`{"hand":"edited"}\n${JSON.stringify(added)}\n`);
  });

  it("takes 50 appends in parallel from 50 instances: 50 lines, each exactly once", async () => {
    // This is about races on the branch, not GitHub's write quota: 50 racing writers make hundreds of attempts.
    useFake({ latencyMs: [1, 20], writesPerMinute: 10_000, writesPerHour: 10_000 });
    const events = Array.from({ length: 50 }, () => event());
    const results = await Promise.allSettled(events.map((one) => append(newStore(), [one], Date.now() + 60_000)));
    expect(results.filter((result) => result.status === "rejected")).toEqual([]);

    const ids = linesOf(DAY_FILE).map((line) => line.event_id);
    expect(ids).toHaveLength(50);
    expect(new Set(ids)).toEqual(new Set(events.map((one) => one.event_id)));
    const statuses = fake.requests.filter((request) => request.method === "PUT").map((request) => request.status);
    expect(statuses.filter((status) => status === 409).length).toBeGreaterThan(0);
  }, 60_000);

  it("starts a new part file when the next line would pass the size cap", async () => {
    useFake();
    const cap = 2048;
    fake.seed(DAY_FILE, `${"x".repeat(cap - 100)}\n`);
    const big = event("2026-11-22T10:00:00.000Z", { pad: "y".repeat(200) });
    await append(newStore({}, cap), [big], soon());
    await append(newStore({}, cap), [event()], soon());

    expect(fake.file(DAY_FILE)).toBe(`${"x".repeat(cap - 100)}\n`);
    expect(linesOf("telemetry/2026/11/22/0002.ndjson")).toHaveLength(2);
    expect(fake.paths().sort()).toEqual([DAY_FILE, "telemetry/2026/11/22/0002.ndjson"]);
  });

  it("keeps a day's parts in a folder of their own, and finds the newest past the 1,000 entries a listing shows", async () => {
    useFake();
    const part = (n: number) => `telemetry/2026/11/22/${String(n).padStart(4, "0")}.ndjson`;
    // A day of 1,200 parts, as a 64 KiB cap would make of 75 MB: the contents API lists the first 1,000.
    fake.seedAll(Array.from({ length: 1_200 }, (_, n) => [part(n + 1), `${JSON.stringify(event())}\n`]));
    fake.seed("telemetry/2026/11/21/0001.ndjson", `${JSON.stringify(event("2026-11-21T10:00:00.000Z"))}\n`);
    const stored = event();
    await append(newStore(), [stored], soon());

    expect(linesOf(part(1200)).map((line) => line.event_id)).toContain(stored.event_id);
    expect(fake.paths().filter((path) => path.startsWith("telemetry/2026/11/22/"))).toHaveLength(1_200);
    expect(fake.requests.filter((request) => request.method === "PUT").map((request) => request.status)).toEqual([200]);
  }, 30_000);

  it("signs in as a GitHub App: mints an installation token from the private key once, and writes with it", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    useFake({ empty: true, app: { id: "424242", publicKey, installationId: 99 } });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const store = newStore({ credentials: { kind: "app", appId: "424242", privateKey: pem, installationId: 99 } });
    const [first, second] = [event(), event()];
    await append(store, [first], soon());
    await append(store, [second], soon());

    expect(linesOf(DAY_FILE).map((line) => line.event_id)).toEqual([first.event_id, second.event_id]);
    expect(fake.appTokens!.minted).toBe(1);
    expect(fake.requests.filter((request) => request.status === 401)).toEqual([]);
  });

  it("is refused (401, not stored) when the app's key is not the app's", async () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    useFake({ empty: true, app: { id: "424242", publicKey, installationId: 99 } });
    const pem = other.export({ type: "pkcs8", format: "pem" }).toString();
    const store = newStore({ credentials: { kind: "app", appId: "424242", privateKey: pem, installationId: 99 } });
    await expect(append(store, [event()], soon())).rejects.toMatchObject({ reason: "refused" });
    expect(fake.paths()).toEqual([]);
  });

  it("appends to a file over 1 MB, which GitHub only gives as raw bytes", async () => {
    useFake();
    const existing = `${JSON.stringify({ filler: "z".repeat(1_200_000) })}\n`;
    fake.seed(DAY_FILE, existing);
    const added = event();
    await append(newStore({}, 4 * MIB), [added], soon());
    expect(fake.file(DAY_FILE)).toBe(`${existing}${JSON.stringify(added)}\n`);
  });

  it("does not write an event twice when GitHub applied a write but its answer was lost", async () => {
    useFake();
    let lost = 0;
    server.use(
      http.put(`${API}/repos/acme/data/contents/*`, async ({ request }) => {
        if (lost > 0) return undefined;
        lost += 1;
        await fake.handle(request.clone());
        return HttpResponse.json({ message: "Server Error" }, { status: 502 });
      }),
    );
    const one = event();
    await append(newStore(), [one], soon());
    expect(lost).toBe(1);
    expect(linesOf(DAY_FILE).map((line) => line.event_id)).toEqual([one.event_id]);
  });

  it("rides out a transient 502", async () => {
    useFake();
    fake.failNext(1, 502);
    await append(newStore(), [event()], soon());
    expect(linesOf(DAY_FILE)).toHaveLength(1);
  });

  it("stops at a secondary rate limit, reports GitHub's retry-after, and does not call GitHub again until then", async () => {
    useFake({ retryAfterSeconds: 42 });
    fake.secondaryLimitFor(60_000);
    const store = newStore();
    const error = await append(store, [event()], soon()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).retryAfterSeconds).toBe(42);

    const callsBefore = fake.requests.length;
    await expect(append(store, [event()], soon())).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(fake.requests.length).toBe(callsBefore);
    expect(fake.paths()).toEqual([]);
  });

  it("refuses with a clear reason, and no token in any log line, when the token is bad", async () => {
    useFake();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const error = await append(
      newStore({ credentials: { kind: "token", token: "wrong-token-also-secret" } }),
      [event()],
      soon(),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/401/);
    const lines = logged.mock.calls.flat().join("\n");
    expect(lines).toMatch(/github_write_refused/);
    expect(lines).not.toMatch(/wrong-token-also-secret|test-token-do-not-leak/);
    logged.mockRestore();
  });

  it("writes to a configured branch, and refuses an unknown one", async () => {
    useFake();
    fake.seed("README.md", "data\n", "main");
    fake.seed("README.md", "data\n", "events");
    await append(newStore({ branch: "events" }), [event()], soon());
    expect(linesOf(DAY_FILE, "events")).toHaveLength(1);
    expect(fake.file(DAY_FILE, "main")).toBeUndefined();

    vi.spyOn(console, "error").mockImplementation(() => {});
    await expect(append(newStore({ branch: "nope" }), [event()], soon())).rejects.toBeInstanceOf(StoreUnavailableError);
    vi.restoreAllMocks();
  });

  it("talks to GitHub Enterprise Server under /api/v3", async () => {
    const ghes = "https://ghe.example.com/api/v3";
    useFake({}, ghes);
    await append(newStore({ apiUrl: ghes }), [event()], soon());
    expect(linesOf(DAY_FILE)).toHaveLength(1);
  });
});

describe("POST /api/v1/telemetry with the GitHub store", () => {
  const post = (store: GitHubStore) =>
    ingest(
      new Request("http://localhost/api/v1/telemetry", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ hwid: "h", event_name: "app_launch", app_version: "1.0.0" }),
      }),
      {
        runtime: {
          ok: true,
          ingest: loadConfig({}).ingest,
          netlifyDev: false,
          clock: systemClock,
          flushKey: undefined,
          health: { maxWaitMs: 15 * 60_000 },
          store,
          spool: undefined,
          publish: () => Promise.reject(new Error("publishing is not part of this test")),
          retain: () => Promise.reject(new Error("retention is not part of this test")),
          erasure: undefined,
        },
      },
    );

  it("answers 201 once the line is in GitHub", async () => {
    useFake({ empty: true });
    const response = await post(newStore());
    expect(response.status).toBe(201);
    const { event_id } = await response.json();
    const today = new Date().toISOString().slice(0, 10).split("-");
    expect(linesOf(`telemetry/${today[0]}/${today[1]}/${today[2]}/0001.ndjson`).map((line) => line.event_id)).toEqual([
      event_id,
    ]);
  });

  it("answers 503 with GitHub's Retry-After under a secondary rate limit, never a 500", async () => {
    useFake({ retryAfterSeconds: 30 });
    fake.secondaryLimitFor(60_000);
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await post(newStore());
    vi.restoreAllMocks();
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("30");
    expect(await response.json()).toMatchObject({ status: "error", error: "storage_unavailable" });
  });
});
