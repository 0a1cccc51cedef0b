import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { v7 as uuidv7 } from "uuid";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../lib/config.ts";
import { toStoredEvent } from "../lib/events/stored-event.ts";
import { dashboardJobs } from "../lib/lifecycle/dashboard-jobs.ts";
import { createRuntime, type Runtime } from "../lib/runtime.ts";
import { FakeGitHub, githubHandlers } from "./support/fake-github/index.ts";

/**
 * One instance talks to GitHub through one adapter: a rate limit GitHub answers to the hourly job
 * (the read path's listing, its Git Data commit) holds the flusher's store as well, and the other
 * way round, so that no part of the instance adds to a limit another part already met.
 */
const API = "https://api.github.com";
const TOKEN = "rate-limit-token";
const DAY_FILE = "telemetry/2026/11/22/0001.ndjson";
const PUBLISH_BUDGET_MS = 20_000;

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  server.resetHandlers();
  vi.restoreAllMocks();
});
afterAll(() => server.close());

let fake: FakeGitHub;
function instance(): Runtime & { ok: true } {
  fake = new FakeGitHub({ owner: "acme", repo: "data", token: TOKEN, retryAfterSeconds: 42 });
  server.use(...githubHandlers(fake, API));
  fake.seed(DAY_FILE, `${JSON.stringify(event())}\n`);
  // Without the spool: no lease stands between the calls, only what the instance itself learnt.
  const runtime = createRuntime(
    loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data", TELEMETRY_SPOOL: "off" }),
    { jobs: dashboardJobs },
  );
  if (!runtime.ok) throw new Error("not configured");
  return runtime;
}

function event() {
  return toStoredEvent(
    { hwid: "a1b2c3d4", event_name: "app_launch", app_version: "1.2.3" },
    { eventId: uuidv7(), createdAt: new Date("2026-11-22T10:00:00.000Z"), ip: null },
  );
}

const commitOne = (runtime: Runtime & { ok: true }) =>
  runtime.store.commit([[event()]], { deadline: Date.now() + 4000 });

describe("one instance's rate limit", () => {
  it("met by the hourly job's Git Data commit holds the flusher's store: no call to GitHub until it passes", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const runtime = instance();
    fake.secondaryLimitFor(60_000);
    const report = await runtime.publish(PUBLISH_BUDGET_MS);
    expect(report.outcome).not.toBe("published");
    expect(fake.requests.filter((request) => request.status === 403).map((request) => request.method)).toEqual([
      "POST",
    ]);

    const before = fake.requests.length;
    await expect(commitOne(runtime)).rejects.toMatchObject({
      name: "StoreUnavailableError",
      reason: "rate_limited",
      retryAfterSeconds: expect.any(Number),
    });
    expect(fake.requests.length).toBe(before);
  });

  it("met by the read path's listing holds the flusher's store too", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const runtime = instance();
    const reset = Math.floor(Date.now() / 1000) + 120;
    let limited = 0;
    server.use(
      http.get(`${API}/repos/acme/data/contents/telemetry`, () => {
        limited += 1;
        return HttpResponse.json(
          { message: "API rate limit exceeded for user ID 1.", status: "403" },
          { status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) } },
        );
      }),
    );
    const report = await runtime.publish(PUBLISH_BUDGET_MS);
    expect(report).toMatchObject({ outcome: "failed", error: expect.stringMatching(/rate limit/) });
    expect(limited).toBe(1);

    const before = fake.requests.length;
    await expect(commitOne(runtime)).rejects.toMatchObject({ reason: "rate_limited" });
    expect(fake.requests.length).toBe(before);
    expect(fake.file(DAY_FILE)?.split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("met by the flusher's store holds the hourly job: it makes no call to GitHub until it passes", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const runtime = instance();
    fake.secondaryLimitFor(60_000);
    await expect(commitOne(runtime)).rejects.toMatchObject({ reason: "rate_limited", retryAfterSeconds: 42 });

    const before = fake.requests.length;
    const report = await runtime.publish(PUBLISH_BUDGET_MS);
    expect(report).toMatchObject({ outcome: "failed", error: expect.stringMatching(/rate limit/) });
    expect(fake.requests.length).toBe(before);
  });
});
