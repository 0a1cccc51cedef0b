import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { v7 as uuidv7 } from "uuid";
import { systemClock, type Clock } from "../lib/clock.ts";
import { storedEventSchema, toStoredEvent, type StoredEvent } from "../lib/events/stored-event.ts";
import { FlushLease, LeaseLostError } from "../lib/spool/flush-lease.ts";
import { Flusher, type FlushReport } from "../lib/spool/flusher.ts";
import { GitHubAdapter } from "../lib/storage/github/github-adapter.ts";
import { GitHubStore } from "../lib/storage/github/github-store.ts";
import type { WriteLimits } from "../lib/config.ts";
import type { BlobStore } from "../lib/spool/blob-store.ts";
import { Spool } from "../lib/spool/spool.ts";
import { ndjsonLine } from "../lib/storage/ndjson-line.ts";
import type { FakeGitHub, FakeGitHubOptions } from "./support/fake-github/index.ts";
import { describe, expect, it, test } from "./support/fixtures.ts";

const TOKEN = "test-token-do-not-leak";
const OWNER = "acme";
const REPO = "data";
const DEFAULT_LIMITS: WriteLimits = { perMinute: 60, perHour: 400 };
const CHILD = fileURLToPath(new URL("./support/flush-child.ts", import.meta.url));

let blobs: { url: string; token: string; siteID: string; name: string };
/** This test's store on the file's Blobs server: the spool, the lease and the ids seen share it. */
let spoolStore: BlobStore;
let fake: FakeGitHub;
let github: { url: string };
let serveGitHub: (options: FakeGitHubOptions) => Promise<{ fake: FakeGitHub; url: string }>;

test.beforeEach(({ blobs: server, spoolName, spoolStore: store, serveGitHub: serve }) => {
  blobs = { url: server.url, token: server.token, siteID: server.siteID, name: spoolName };
  spoolStore = store;
  serveGitHub = serve;
});

async function useGitHub(options: FakeGitHubOptions = {}) {
  const served = await serveGitHub({ owner: OWNER, repo: REPO, token: TOKEN, ...options });
  fake = served.fake;
  github = { url: served.url };
}

const spool = () => new Spool(spoolStore, systemClock);
const store = (maxFileBytes = 1024 * 1024) =>
  new GitHubStore(
    new GitHubAdapter({
      credentials: { kind: "token", token: TOKEN },
      owner: OWNER,
      repo: REPO,
      branch: undefined,
      apiUrl: github.url,
    }),
    "telemetry",
    maxFileBytes,
    {
      waitOnRateLimit: false,
    },
  );

function flush({
  budgetMs = 10_000,
  leaseTtlMs = 30_000,
  limits = DEFAULT_LIMITS,
  lease,
  clock = systemClock,
}: { budgetMs?: number; leaseTtlMs?: number; limits?: WriteLimits; lease?: FlushLease; clock?: Clock } = {}) {
  return new Flusher({
    blobs: spoolStore,
    spool: spool(),
    lease: lease ?? new FlushLease(spoolStore, systemClock, leaseTtlMs),
    store: store(),
    clock,
    limits,
  }).run(budgetMs);
}

/** The system's clock, but its timers wake a few milliseconds before the wall clock reaches their end, as Node's may. */
const earlyTimers: Clock = { ...systemClock, sleep: (ms) => systemClock.sleep(ms - 3) };

function event(createdAt = new Date().toISOString()): StoredEvent {
  return toStoredEvent(
    {
      hwid: "a1b2c3d4",
      event_name: "app_launch",
      app_version: "1.2.3",
      client_type: "vector-inspector",
      metadata: { n: 1 },
    },
    { eventId: uuidv7(), createdAt: new Date(createdAt), ip: "203.0.113.7" },
  );
}

/** Accepts `count` events as ingestion does: one spool entry each. */
async function accept(count: number, createdAt?: string): Promise<StoredEvent[]> {
  const events = Array.from({ length: count }, () => event(createdAt));
  await Promise.all(events.map((one) => spool().add([one])));
  return events;
}

/** A spool entry's key, as ingestion makes it, for an entry of `count` events written by hand. */
function entryKey(count: number): string {
  const now = Date.now();
  return `pending/${String(Math.floor(now / 60_000)).padStart(10, "0")}/${String(now).padStart(15, "0")}-${count}-${crypto.randomUUID()}`;
}

/** How many times each event id is in the repository, every line checked against the schema. */
function storedCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const path of fake.paths()) {
    for (const line of (fake.file(path) ?? "").split("\n").filter(Boolean)) {
      const { event_id } = storedEventSchema.parse(JSON.parse(line));
      counts.set(event_id, (counts.get(event_id) ?? 0) + 1);
    }
  }
  return counts;
}

function expectEachOnce(events: readonly StoredEvent[]) {
  const counts = storedCounts();
  expect([...counts.values()].every((count) => count === 1)).toBe(true);
  expect(new Set(counts.keys())).toEqual(new Set(events.map((one) => one.event_id)));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const putCount = () => fake.requests.filter((request) => request.method === "PUT").length;

/** Flushes as the next instance would, once the dead flusher's lease has expired. */
async function successor(): Promise<FlushReport> {
  for (;;) {
    const report = await flush();
    if (report.outcome !== "busy") return report;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("flushing the spool into GitHub", () => {
  it("commits everything waiting in one write per day file, then clears the spool", async () => {
    await useGitHub({ empty: true });
    const today = await accept(120, "2026-11-22T23:59:58.000Z");
    const tomorrow = await accept(30, "2026-11-23T00:00:01.000Z");
    expect(await spool().depth()).toMatchObject({ entries: 150, events: 150 });

    const report = await flush();
    expect(report).toMatchObject({ outcome: "idle", events: 150, commits: 2, files: 2, error: null });
    expect(fake.paths()).toEqual(["telemetry/2026/11/22/0001.ndjson", "telemetry/2026/11/23/0001.ndjson"]);
    expect(putCount()).toBe(2);
    expectEachOnce([...today, ...tomorrow]);
    expect(await spool().depth()).toEqual({ entries: 0, events: 0, oldest_at: null });
  });

  it("sets an entry it cannot read aside in quarantine/ with the reason, and stores the events behind it", async () => {
    await useGitHub({ empty: true });
    const before = await accept(3);
    const bad = entryKey(1);
    await spoolStore.setJSON(bad, { events: "not a list" });
    const after = await accept(3);

    expect(await flush()).toMatchObject({ outcome: "idle", events: 6, error: null });
    expectEachOnce([...before, ...after]);
    expect(await spool().depth()).toMatchObject({ entries: 0 });
    expect(await spoolStore.get(`quarantine/${bad}`, { type: "json" })).toEqual({
      value: { events: "not a list" },
      issues: [{ path: "events", message: expect.any(String) }],
      set_aside_at: expect.closeTo(Date.now(), -5) as number,
    });
  });

  it("sets aside only the event that cannot be stored, with the reason, and stores the rest of its entry", async () => {
    await useGitHub({ empty: true });
    const [first, third] = [event(), event()];
    const key = entryKey(3);
    const broken = { ...event(), event_id: "not-a-uuid" };
    await spoolStore.setJSON(key, { events: [first, broken, third] });

    expect(await flush()).toMatchObject({ outcome: "idle", events: 2, error: null });
    expectEachOnce([first, third]);
    expect(await spoolStore.get(`quarantine/${key}/1`, { type: "json" })).toEqual({
      value: broken,
      issues: [{ path: "event_id", message: expect.any(String) }],
      set_aside_at: expect.closeTo(Date.now(), -5) as number,
    });
    expect((await new FlushLease(spoolStore, systemClock, 30_000).read()).quarantined).toBe(1);
  });

  it("stores an entry a newer deploy left (a field it does not know, on the entry and on the event) as accepted", async () => {
    await useGitHub({ empty: true });
    const newer = { ...event(), hwid_hash_version: 2 };
    await spoolStore.setJSON(entryKey(1), { events: [newer], format: 2 });

    expect(await flush()).toMatchObject({ outcome: "idle", events: 1, error: null });
    const [path] = fake.paths();
    expect(JSON.parse(fake.file(path!)!)).toEqual(newer);
  });

  it("finds the event GitHub's push protection refuses, sets it aside with the reason, and stores every other event in the same flush", async () => {
    await useGitHub({ empty: true, pushProtection: { example_secret: /SCAN-ME-[0-9]{6}/ } });
    const entries = await Promise.all(
      Array.from({ length: 10 }, async (_, n) => {
        const events = [event(), event(), event()];
        if (n === 6) events[1]!.metadata = { note: "pasted SCAN-ME-123456 by mistake" };
        await spool().add(events);
        return events;
      }),
    );
    const secret = entries[6]![1]!;

    // Each try is a write: unpaced here, so that the search takes a second, not minutes.
    const unpaced = { limits: { perMinute: 10_000, perHour: 100_000 } };
    expect(await flush(unpaced)).toMatchObject({ outcome: "idle", events: 29, error: null });
    expectEachOnce(entries.flat().filter((one) => one !== secret));
    expect(await spool().depth()).toMatchObject({ entries: 0 });
    const { blobs: set } = await spoolStore.list({ prefix: "quarantine/" });
    expect(set.map(({ key }) => key)).toEqual([expect.stringMatching(new RegExp(`/${secret.event_id}$`))]);
    expect(await spoolStore.get(set[0]!.key, { type: "json" })).toEqual({
      value: secret,
      issues: [{ path: "body", message: expect.stringMatching(/push protection.*example_secret/) }],
      // Kept 30 days from then (see the quarantine's own tests).
      set_aside_at: expect.closeTo(Date.now(), -5) as number,
    });
    expect((await new FlushLease(spoolStore, systemClock, 30_000).read()).quarantined).toBe(1);
    const writes = putCount();
    expect(await flush(unpaced)).toMatchObject({ outcome: "idle", events: 0 });
    expect(putCount()).toBe(writes);
  });

  it("goes on with the search for a secret in the next run rather than begin it again", async () => {
    await useGitHub({ empty: true, pushProtection: { example_secret: /SCAN-ME-[0-9]{6}/ } });
    const events = Array.from({ length: 16 }, () => event());
    events[15]!.metadata = { note: "SCAN-ME-654321" };
    for (const one of events) await spool().add([one]);

    // At the pace's burst spacing (a second a write), a run of this budget makes two or three writes.
    await flush({ budgetMs: 5_000 });
    const { suspect } = await new FlushLease(spoolStore, systemClock, 30_000).read();
    expect(suspect).not.toBeNull();
    while ((await flush({ budgetMs: 5_000 })).outcome !== "idle");
    expectEachOnce(events.slice(0, 15));
    // Each step of the search is one write: the whole (refused), then halves down to the one entry.
    expect(putCount()).toBeLessThanOrEqual(2 * Math.log2(16) + 2);
  });

  it("stores each event once across every part of its day when a write lands after its writer gave up and handed over", async () => {
    const day = "2026-11-22T10:00:00.000Z";
    const cap = 16 * 1024;
    const puts: string[] = [];
    await useGitHub({
      // The first writer's write is applied after its client gave up; the successor's write arrives after that.
      beforeWrite: async () => {
        if (puts.length === 1) await sleep(5_800);
      },
      onArrival: async (method) => {
        if (method !== "PUT") return;
        puts.push(method);
        if (puts.length === 2) await sleep(1_000);
      },
    });
    const seeded = Array.from({ length: 60 }, () => event(day)).filter(
      (_, n, all) => all.slice(0, n + 1).reduce((size, one) => size + ndjsonLine(one).length, 0) < cap * 0.7,
    );
    fake.seed("telemetry/2026/11/22/0001.ndjson", seeded.map(ndjsonLine).join(""));
    const handedOver = await accept(5, day);
    const capped = (budgetMs: number) =>
      new Flusher({
        blobs: spoolStore,
        spool: spool(),
        lease: new FlushLease(spoolStore, systemClock, 30_000),
        store: store(cap),
        clock: systemClock,
        limits: DEFAULT_LIMITS,
      }).run(budgetMs);

    expect(await capped(3_500)).toMatchObject({ outcome: "paced", events: 0 });
    const newer = await accept(20, day);
    await capped(10_000);
    await capped(10_000);

    expectEachOnce([...seeded, ...handedOver, ...newer]);
    expect(await spool().depth()).toMatchObject({ entries: 0 });
  });

  it("says so when the same commit runs out of time twice in a row, an upload that never fits a run", async () => {
    let slow = 2;
    await useGitHub({
      empty: true,
      beforeWrite: async () => {
        if (slow-- > 0) await sleep(6_000);
      },
    });
    const events = await accept(3);
    expect(await flush({ budgetMs: 3_500 })).toMatchObject({ outcome: "paced", error: null });
    expect(await flush({ budgetMs: 3_500 })).toMatchObject({
      outcome: "failed",
      error: expect.stringMatching(/ran out of time in two runs in a row/),
    });
    await sleep(1_000);
    expect(await flush()).toMatchObject({ outcome: "idle", error: null });
    expectEachOnce(events);
  });

  it("keeps one holder at a time: a second flusher is turned away, and takes over once a dead holder's lease expires", async () => {
    await useGitHub();
    await accept(5);
    // Long enough that the second flusher surely meets it on a loaded machine; then it waits for the expiry.
    const dead = new FlushLease(spoolStore, systemClock, 3000);
    expect(await dead.acquire()).toBeDefined();

    expect(await flush()).toMatchObject({ outcome: "busy", events: 0 });
    expect(fake.requests).toEqual([]);

    expect(await successor()).toMatchObject({ outcome: "idle", events: 5, commits: 1 });
    await expect(dead.renew(await dead.read())).rejects.toBeInstanceOf(LeaseLostError);
  });

  it("stores each event once while ten instances flush at the same time as events arrive", async () => {
    await useGitHub({ latencyMs: [5, 20] });
    const arriving = Promise.all(Array.from({ length: 10 }, () => accept(20)));
    const flushes = Array.from({ length: 10 }, async () => {
      const reports: FlushReport[] = [];
      for (let round = 0; round < 5; round += 1) reports.push(await flush());
      return reports;
    });
    const [batches] = await Promise.all([arriving, ...flushes]);
    await flush();
    expectEachOnce(batches.flat());
    expect(fake.writeCount()).toBeLessThan(50);
  });

  it("paces writes: stops when the next write's turn is past its budget, leaving the events waiting", async () => {
    await useGitHub();
    await accept(3);
    expect(await flush({ limits: { perMinute: 1, perHour: 400 } })).toMatchObject({ outcome: "idle", commits: 1 });
    const later = await accept(4);
    const report = await flush({ limits: { perMinute: 1, perHour: 400 }, budgetMs: 3000 });
    expect(report).toMatchObject({ outcome: "paced", events: 0, commits: 0, error: null });
    expect(putCount()).toBe(1);
    expect(await spool().depth()).toMatchObject({ events: 4 });
    expect(await flush()).toMatchObject({ outcome: "idle", events: 4 });
    expect(storedCounts().size).toBe(7);
    expect(later.every((one) => storedCounts().get(one.event_id) === 1)).toBe(true);
  });

  it("stops on a secondary rate limit, keeps GitHub's retry-after in the shared state, and makes no call before it passes", async () => {
    await useGitHub({ retryAfterSeconds: 4 });
    const events = await accept(10);
    fake.secondaryLimitFor(60_000);
    const asked = Date.now();
    const stopped = await flush();
    expect(stopped).toMatchObject({ outcome: "blocked", events: 0 });
    expect(stopped.error).toMatch(/rate limit/i);
    const state = await new FlushLease(spoolStore, systemClock, 1000).read();
    expect(state.blocked_until).toBeGreaterThanOrEqual(asked + 4000);
    expect(state.last_flush).toMatchObject({ events: 0, commits: 0 });

    // A run that would outlast the stop waits it out, calling nothing, then writes.
    fake.secondaryLimitFor(0);
    const calls = fake.requests.length;
    const waited = flush({ clock: earlyTimers });
    await sleep(1_000);
    expect(fake.requests.length).toBe(calls);
    expect(await waited).toMatchObject({ outcome: "idle", events: 10, commits: 1 });
    expect(Date.now()).toBeGreaterThanOrEqual(state.blocked_until);
    expectEachOnce(events);

    // One that would not, stops at once.
    fake.secondaryLimitFor(60_000);
    await accept(1);
    expect(await flush()).toMatchObject({ outcome: "blocked" });
    const after = fake.requests.length;
    expect(await flush({ budgetMs: 3_500 })).toMatchObject({ outcome: "blocked", events: 0 });
    expect(fake.requests.length).toBe(after);
  });

  it("keeps the events through GitHub's 5xx and stores them once when it answers again", async () => {
    await useGitHub();
    const events = await accept(8);
    fake.failNext(1000, 502);
    const failed = await flush({ budgetMs: 6000 });
    expect(failed.outcome).toBe("failed");
    expect(failed.error).toMatch(/GitHub is busy/);
    expect(await spool().depth()).toMatchObject({ events: 8 });
    fake.failNext(0);
    expect(await flush()).toMatchObject({ outcome: "idle", events: 8 });
    expectEachOnce(events);
  });
});

describe("a flusher killed in the middle of its write", () => {
  let child: ChildProcess | undefined;
  test.afterEach(() => {
    child?.kill("SIGKILL");
  });

  function startChild(): ChildProcess {
    const config = {
      blobs,
      github: { url: github.url, token: TOKEN, owner: OWNER, repo: REPO },
      leaseTtlMs: 1000,
    };
    child = spawn(
      process.execPath,
      ["--experimental-transform-types", "--no-warnings", CHILD, JSON.stringify(config)],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    return child;
  }

  async function kill(process: ChildProcess) {
    const exited = new Promise((resolve) => process.once("exit", resolve));
    process.kill("SIGKILL");
    await exited;
  }

  it("after GitHub accepted the write but before the spool was cleared: its successor stores nothing twice", async () => {
    // eslint-disable-next-line prefer-const -- the hook reads it before the child starts; a const would be in its dead zone
    let victim: ChildProcess | undefined;
    await useGitHub({ afterWrite: async () => victim && (await kill(victim)) });
    const events = await accept(25);
    victim = startChild();
    await new Promise((resolve) => victim.once("exit", resolve));

    expect(fake.writeCount()).toBe(1);
    expectEachOnce(events);
    expect(await spool().depth()).toMatchObject({ events: 25 });

    const report = await successor();
    expect(report).toMatchObject({ outcome: "idle", events: 0, commits: 0 });
    expect(fake.writeCount()).toBe(1);
    expectEachOnce(events);
    expect(await spool().depth()).toMatchObject({ events: 0 });
  });

  it("before its write reached GitHub: its successor stores every event", async () => {
    let victim: ChildProcess | undefined;
    await useGitHub({
      beforeWrite: async () => {
        if (!victim) return;
        await kill(victim);
        victim = undefined;
        return "drop";
      },
    });
    const events = await accept(25);
    victim = startChild();
    await new Promise((resolve) => child!.once("exit", resolve));

    expect(fake.paths()).toEqual([]);
    expect(await spool().depth()).toMatchObject({ events: 25 });

    expect(await successor()).toMatchObject({ outcome: "idle", events: 25, commits: 1 });
    expectEachOnce(events);
  });
});
