/**
 * `npm run bench`: the real ingest handler and flusher, in this process, against a GitHub
 * simulator with the reference semantics (100-300 ms a call, branch-level conflicts, 80 writes a
 * minute and 500 an hour) on a scaled clock, with Netlify Blobs' own local server for the spool;
 * and, on the burst, the seeds' one-commit-per-event pattern as a baseline.
 */
import { v7 as uuidv7 } from "uuid";
import type { Clock } from "../lib/clock.ts";
import { loadConfig } from "../lib/config.ts";
import { storedEventSchema, telemetryEventSchema, toStoredEvent } from "../lib/event.ts";
import { handleTelemetryRequest } from "../lib/ingest.ts";
import { SPOOL_STORE_NAME } from "../lib/netlify-blobs.ts";
import { createRuntime, SCHEDULED_FLUSH_BUDGET_MS, WOKEN_FLUSH_BUDGET_MS, type Runtime } from "../lib/runtime.ts";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { getStore } from "@netlify/blobs";
import { blobsStoreAt } from "../test/support/blobs.ts";
import { FakeGitHub, serveFakeGitHub, type FakeGitHubOptions } from "../test/support/fake-github.ts";
import { scaledClock } from "./scaled-clock.ts";
import { seedPatternWriter } from "./seed-pattern.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const GITHUB = { token: "bench-token", owner: "acme", repo: "telemetry-data" };
/** The real client: one event per request, gives up after 5 s, sends again on its next flush (about 5 s later), here at most 6 times. */
const CLIENT_TIMEOUT_MS = 5000;
const CLIENT_RETRY_MS = 5000;
const CLIENT_ATTEMPTS = 6;
const INGEST_URL = "https://telemetry.example/api/v1/telemetry";
/** The clients' address as the platform reports it (a documentation range). */
const CLIENT_IP = "203.0.113.7";
const GITHUB_LATENCY_MS: [number, number] = [100, 300];
const DRAIN_LIMIT_MS = 3 * HOUR;
const MEMORY_TMPDIR = "/dev/shm";
/** Requests sent before a scenario, to a spool of their own, so that its figures are not those of a cold process. */
const WARM_UP_REQUESTS = 2000;
const WARM_UP_PER_SECOND = 400;

interface Scenario {
  name: string;
  title: string;
  /** Simulated ms per wall-clock ms. */
  scale: number;
  events: number;
  /** Simulated ms over which the events arrive, evenly spread. */
  windowMs: number;
  clients: number;
  failureRate?: number;
  /** [start, length] in simulated ms from the scenario's start: every content write gets the secondary-limit 403. */
  limitWindow?: [number, number];
  baseline?: boolean;
}

const SCENARIOS: Scenario[] = [
  {
    name: "steady",
    title: "1,000,000 events a day (700 a minute) for one hour",
    scale: 10,
    events: 42_000,
    windowMs: HOUR,
    clients: 2000,
  },
  {
    name: "burst",
    title: "10,000 events from 200 clients within 10 seconds",
    scale: 1,
    events: 10_000,
    windowMs: 10_000,
    clients: 200,
    baseline: true,
  },
  {
    name: "faults",
    title:
      "700 a minute for 30 minutes; 5% of GitHub calls answer 502, and minutes 10-20 answer every write with the secondary-limit 403",
    scale: 10,
    events: 21_000,
    windowMs: 30 * MINUTE,
    clients: 2000,
    failureRate: 0.05,
    limitWindow: [10 * MINUTE, 10 * MINUTE],
  },
];

type Mode = "spool" | "seeds' pattern";

/** The service under test: the ingest handler in front of the spool, or the seeds' write path. */
type Service = SpoolService | { mode: "seeds' pattern"; write: ReturnType<typeof seedPatternWriter> };

interface SpoolService {
  mode: "spool";
  runtime: Runtime & { ok: true };
  /** A woken flush, as ingestion starts one. */
  startFlush(): Promise<void>;
  /** A run of the scheduled flush function. */
  flushOnSchedule(): void;
}

/** A scenario's world, running: its clock, GitHub and service, and when on that clock the clients start. */
interface Bench {
  clock: Clock;
  github: TimedGitHub;
  service: Service;
  start: number;
  /** Stops the flush schedule and the injected faults, and closes GitHub and the Blobs process. */
  close(): Promise<void>;
}

/** Where a client's request goes: its status (0: the client gave up), and the clock its acknowledgement is timed on. */
interface Endpoint {
  post(body: unknown): Promise<number>;
  now(): number;
  ackUnit: string;
}

interface Acknowledgements {
  acked: number;
  ackMs: number[];
  ackUnit: string;
}

/** What GitHub ended up holding, and what it was asked. */
interface Figures {
  stored: number;
  lost: number;
  duplicated: number;
  commits: number;
  requests: number;
  uploadedBytes: number;
  maxWritesPerMinute: number;
  maxWritesPerHour: number;
  limitRefusals: number;
  injectedWindowRefusals: number;
}

interface Result extends Acknowledgements, Figures {
  scenario: string;
  mode: Mode;
  sent: number;
  drainMs: number;
  wallMs: number;
}

/** The simulator, noting when each answer went out and how many bytes each write carried. */
class TimedGitHub extends FakeGitHub {
  readonly answers: { at: number; method: string; status: number; bytes: number }[] = [];
  constructor(
    options: FakeGitHubOptions,
    private readonly clockNow: () => number,
  ) {
    super(options);
  }
  override async handle(request: Request, basePath = ""): Promise<Response> {
    const bytes = request.method === "PUT" ? (await request.clone().arrayBuffer()).byteLength : 0;
    const response = await super.handle(request, basePath);
    this.answers.push({ at: this.clockNow(), method: request.method, status: response.status, bytes });
    return response;
  }
}

/**
 * Starts the Blobs server in a process of its own (the service is apart from the functions), its
 * files in memory where the machine has a tmpfs, and returns strongly consistent stores on it.
 */
async function startBlobsProcess() {
  const directory = await mkdtemp(join(existsSync(MEMORY_TMPDIR) ? MEMORY_TMPDIR : tmpdir(), "telemetry-bench-blobs-"));
  const token = "bench-blobs-token";
  const siteID = "bench-site";
  const child = spawn(
    process.execPath,
    [...process.execArgv, new URL("./blobs-process.ts", import.meta.url).pathname, directory, token],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, UV_THREADPOOL_SIZE: "16" },
    },
  );
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  const { url } = JSON.parse(line.toString()) as { url: string };
  return {
    store: (name = SPOOL_STORE_NAME) => blobsStoreAt(url, token, siteID, name),
    close: async () => {
      child.kill("SIGKILL");
      await once(child, "exit");
      await rm(directory, { recursive: true, force: true });
    },
  };
}

async function run(scenario: Scenario, mode: Mode): Promise<Result> {
  const wallStart = performance.now();
  const bench = await setUp(scenario, mode);
  const acknowledgements = await sendEvents(scenario, bench);
  const drainMs = await drain(scenario, bench);
  const figures = measure(scenario, bench);
  await bench.close();
  return {
    scenario: scenario.name,
    mode,
    sent: scenario.events,
    ...acknowledgements,
    ...figures,
    drainMs,
    wallMs: performance.now() - wallStart,
  };
}

/**
 * The GitHub simulator on the scenario's scaled clock and the service in front of it; then, the
 * clock started, the minutely scheduled flush and the scenario's secondary-limit window.
 */
async function setUp(scenario: Scenario, mode: Mode): Promise<Bench> {
  const clock = scaledClock(scenario.scale);
  const github = new TimedGitHub(
    {
      ...GITHUB,
      empty: true,
      latencyMs: GITHUB_LATENCY_MS,
      failureRate: scenario.failureRate,
      now: clock.now,
      sleep: clock.sleep,
    },
    clock.now,
  );
  const server = await serveFakeGitHub(github);
  const blobs = mode === "spool" ? await startBlobsProcess() : undefined;
  const service: Service = blobs
    ? await startSpoolService(blobs.store(), server.url, clock)
    : { mode: "seeds' pattern", write: seedPatternWriter({ ...GITHUB, url: server.url }) };
  if (blobs) await warmUp(blobs.store("warm-up"));
  const start = clock.now();
  const timers: NodeJS.Timeout[] = [];
  if (service.mode === "spool") timers.push(setInterval(service.flushOnSchedule, MINUTE / scenario.scale));
  if (scenario.limitWindow) {
    const [from, length] = scenario.limitWindow;
    timers.push(setTimeout(() => github.secondaryLimitFor(length), from / scenario.scale));
  }
  return {
    clock,
    github,
    service,
    start,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await server.close();
      await blobs?.close();
    },
  };
}

/** The ingest handler's runtime with its spool on `blobs`, and its flushes started as on Netlify. */
async function startSpoolService(
  blobs: ReturnType<typeof getStore>,
  githubUrl: string,
  clock: Clock,
): Promise<SpoolService> {
  const config = loadConfig({
    GITHUB_TOKEN: GITHUB.token,
    GITHUB_REPOSITORY: `${GITHUB.owner}/${GITHUB.repo}`,
    GITHUB_API_URL: githubUrl,
  });
  const runtime = createRuntime(config, { blobs, clock }) as Runtime & { ok: true };
  // As the flush function does: a run out of budget with events waiting starts the next one.
  const flush = (budget: number) => {
    void runtime.spool!.flush(budget, async () => {
      setTimeout(() => flush(WOKEN_FLUSH_BUDGET_MS));
    });
  };
  return {
    mode: "spool",
    runtime,
    startFlush: async () => flush(WOKEN_FLUSH_BUDGET_MS),
    flushOnSchedule: () => void runtime.spool!.flush(SCHEDULED_FLUSH_BUDGET_MS),
  };
}

/**
 * The simulated clients: the scenario's events, evenly spread over its window, each sent as the
 * real client sends it; returns once each is acknowledged or given up.
 */
async function sendEvents(scenario: Scenario, { clock, service, start }: Bench): Promise<Acknowledgements> {
  const endpoint = service.mode === "spool" ? handlerEndpoint(service, clock) : seedsEndpoint(service.write, clock);
  const ackMs: number[] = [];
  let acked = 0;
  const deliver = async (seq: number): Promise<void> => {
    const body = {
      hwid: `install-${seq % scenario.clients}`,
      event_name: "app_launch",
      app_version: "1.4.0",
      metadata: { seq, os: "Linux-6.1-x86_64" },
    };
    for (let attempt = 0; attempt < CLIENT_ATTEMPTS; attempt += 1) {
      const sent = endpoint.now();
      const status = await endpoint.post(body);
      ackMs.push(endpoint.now() - sent);
      if (status === 201) {
        acked += 1;
        return;
      }
      await clock.sleep(CLIENT_RETRY_MS);
    }
  };

  const deliveries: Promise<void>[] = [];
  for (let seq = 0; seq < scenario.events; seq += 1) {
    const due = start + (seq * scenario.windowMs) / scenario.events;
    if (due > clock.now()) await clock.sleep(due - clock.now());
    deliveries.push(deliver(seq));
  }
  await Promise.all(deliveries);
  return { acked, ackMs, ackUnit: endpoint.ackUnit };
}

/** The ingest handler, in this process: no client timeout, and the wall-clock time it takes, Blobs write included. */
function handlerEndpoint({ runtime, startFlush }: SpoolService, clock: Clock): Endpoint {
  return {
    post: async (body) => {
      const response = await handleTelemetryRequest(telemetryRequest(body), {
        runtime,
        now: () => new Date(clock.now()),
        platformIp: CLIENT_IP,
        startFlush,
      });
      return response.status;
    },
    now: () => performance.now(),
    ackUnit: "wall ms",
  };
}

/** The seeds' write path, a round trip to GitHub per call: the client gives up on it after its timeout, in simulated time. */
function seedsEndpoint(write: ReturnType<typeof seedPatternWriter>, clock: Clock): Endpoint {
  return {
    post: async (body) => {
      const event = toStoredEvent(telemetryEventSchema.parse(body), {
        eventId: uuidv7(),
        createdAt: new Date(clock.now()),
        ip: CLIENT_IP,
      });
      return Promise.race([write(event), clock.sleep(CLIENT_TIMEOUT_MS).then(() => 0)]);
    },
    now: clock.now,
    ackUnit: "simulated ms",
  };
}

function telemetryRequest(body: unknown): Request {
  return new Request(INGEST_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/**
 * Waits, from the last send, until the spool is empty and no flush holds the lease, at most
 * DRAIN_LIMIT_MS; returns how long that took in simulated ms (none for the seeds' pattern: no spool).
 */
async function drain(scenario: Scenario, { clock, service }: Bench): Promise<number> {
  const sendEnd = clock.now();
  if (service.mode === "spool") {
    const { spool, lease } = service.runtime.spool!;
    while (clock.now() - sendEnd < DRAIN_LIMIT_MS) {
      const [waiting, state] = await Promise.all([spool.oldest(1), lease.read()]);
      if (waiting.length === 0 && state.holder === null) break;
      // Listing the spool costs the Blobs server: look every simulated second, but at most four times a wall second.
      await clock.sleep(Math.max(1000, 250 * scenario.scale));
    }
  }
  return clock.now() - sendEnd;
}

/** Counts each event's copies in the simulated repository (by its seq), and GitHub's writes and refusals. */
function measure(scenario: Scenario, { github, start }: Bench): Figures {
  const copies = new Map<number, number>();
  for (const path of github.paths()) {
    for (const line of (github.file(path) ?? "").split("\n").filter(Boolean)) {
      const seq = (storedEventSchema.parse(JSON.parse(line)).metadata as { seq: number }).seq;
      copies.set(seq, (copies.get(seq) ?? 0) + 1);
    }
  }
  const writes = github.answers
    .filter((answer) => answer.method === "PUT" && answer.status < 300)
    .map((answer) => answer.at);
  const refusals = github.answers.filter((answer) => answer.status === 403 || answer.status === 429);
  const inWindow = (at: number) =>
    scenario.limitWindow !== undefined &&
    at >= start + scenario.limitWindow[0] &&
    at <= start + scenario.limitWindow[0] + scenario.limitWindow[1] + 1000;
  return {
    stored: copies.size,
    lost: scenario.events - copies.size,
    duplicated: [...copies.values()].filter((count) => count > 1).length,
    commits: writes.length,
    requests: github.answers.length,
    uploadedBytes: github.answers.reduce((total, answer) => total + answer.bytes, 0),
    maxWritesPerMinute: maxInWindow(writes, MINUTE),
    maxWritesPerHour: maxInWindow(writes, HOUR),
    limitRefusals: refusals.length,
    injectedWindowRefusals: refusals.filter((answer) => inWindow(answer.at)).length,
  };
}

/**
 * Runs the ingest path on a throwaway spool, then a flush of it into a throwaway GitHub, so that
 * code and connections are warm when the clock starts: the flusher shares the ingest's process,
 * and its first run (Octokit's and the flush's code compiled on the spot) would otherwise hold up
 * the first acknowledgements.
 */
async function warmUp(store: ReturnType<typeof getStore>): Promise<void> {
  const github = await serveFakeGitHub(new FakeGitHub({ ...GITHUB, empty: true }));
  const config = loadConfig({
    GITHUB_TOKEN: GITHUB.token,
    GITHUB_REPOSITORY: `${GITHUB.owner}/${GITHUB.repo}`,
    GITHUB_API_URL: github.url,
  });
  const runtime = createRuntime(config, { blobs: store }) as Runtime & { ok: true };
  const requests: Promise<Response>[] = [];
  for (let index = 0; index < WARM_UP_REQUESTS; index += 1) {
    requests.push(
      handleTelemetryRequest(
        telemetryRequest({ hwid: "warm-up", event_name: "warm_up", app_version: "0", metadata: { index } }),
        { runtime },
      ),
    );
    if (index % 20 === 19) await new Promise((resolve) => setTimeout(resolve, (20 * 1000) / WARM_UP_PER_SECOND));
  }
  await Promise.all(requests);
  await runtime.spool!.flush(SCHEDULED_FLUSH_BUDGET_MS);
  await github.close();
}

function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let end = 0, begin = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[begin]! >= windowMs) begin += 1;
    max = Math.max(max, end - begin + 1);
  }
  return max;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)] ?? 0;
}

function print(result: Result): void {
  const perStored = (value: number) => (result.stored > 0 ? value / result.stored : 0);
  const rows: [string, string][] = [
    ["events sent / acknowledged", `${result.sent} / ${result.acked}`],
    ["stored / lost / duplicated", `${result.stored} / ${result.lost} / ${result.duplicated}`],
    ["commits", `${result.commits}`],
    ["events per commit", (result.commits > 0 ? result.stored / result.commits : 0).toFixed(1)],
    ["GitHub requests per stored event", perStored(result.requests).toFixed(3)],
    ["bytes uploaded per stored event", perStored(result.uploadedBytes).toFixed(0)],
    [
      `ack p50 / p99 (${result.ackUnit})`,
      `${percentile(result.ackMs, 0.5).toFixed(1)} / ${percentile(result.ackMs, 0.99).toFixed(1)}`,
    ],
    [
      "most writes in any minute / hour",
      `${result.maxWritesPerMinute} / ${result.maxWritesPerHour}  (GitHub allows 80 / 500)`,
    ],
    [
      "rate-limit refusals (403/429)",
      `${result.limitRefusals}${result.injectedWindowRefusals > 0 ? ` (${result.injectedWindowRefusals} inside the injected window)` : ""}`,
    ],
    ["drained after the last send (simulated)", `${(result.drainMs / 1000).toFixed(1)} s`],
    ["wall time", `${(result.wallMs / 1000).toFixed(1)} s`],
  ];
  console.log(`  ${result.mode}`);
  for (const [label, value] of rows) console.log(`    ${label.padEnd(42)} ${value}`);
}

const only = process.argv.slice(2);
const chosen = SCENARIOS.filter((candidate) => only.length === 0 || only.includes(candidate.name));
const results: Result[] = [];
// The baselines last: their thousands of failing connections would still be closing while a later scenario ran.
for (const [scenario, mode] of [
  ...chosen.map((scenario) => [scenario, "spool"] as const),
  ...chosen.filter((scenario) => scenario.baseline).map((scenario) => [scenario, "seeds' pattern"] as const),
]) {
  console.log(`\n${scenario.name}: ${scenario.title} (clock x${scenario.scale})`);
  const result = await run(scenario, mode);
  results.push(result);
  print(result);
}

const spool = results.filter((result) => result.mode === "spool");
const checks: [string, boolean][] = [
  ["0 lost, 0 duplicated", spool.every((result) => result.lost === 0 && result.duplicated === 0)],
  ["ack p99 under 250 ms", spool.every((result) => percentile(result.ackMs, 0.99) < 250)],
  [
    "GitHub's limits never reached",
    spool.every(
      (result) =>
        result.maxWritesPerMinute <= 80 &&
        result.maxWritesPerHour <= 500 &&
        result.limitRefusals === result.injectedWindowRefusals,
    ),
  ],
  [
    "steady: 100 or more events per commit",
    spool.filter((result) => result.scenario === "steady").every((result) => result.stored / result.commits >= 100),
  ],
];
console.log("\nspool, all scenarios:");
for (const [label, ok] of checks) console.log(`  ${ok ? "yes" : "NO "}  ${label}`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
