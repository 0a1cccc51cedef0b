/**
 * A scenario's world: the GitHub simulator on a scaled clock, and the service under test in front
 * of it (the ingest handler with its spool in a Blobs process, warmed up; or the seeds' writer).
 */
import type { Clock } from "../lib/clock.ts";
import { loadConfig, type Config } from "../lib/config.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { SPOOL_STORE_NAME } from "../lib/platform/spool-blobs.ts";
import { dashboardJobs } from "../lib/lifecycle/dashboard-jobs.ts";
import { createRuntime, type Runtime } from "../lib/runtime.ts";
import { SCHEDULED_FLUSH_BUDGET_MS, WOKEN_FLUSH_BUDGET_MS } from "../lib/spool/flusher.ts";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import type { Store } from "@netlify/blobs";
import { blobsStoreAt } from "../test/support/blobs.ts";
import { FakeGitHub, serveFakeGitHub, type FakeGitHubOptions } from "../test/support/fake-github/index.ts";
import { MINUTE, SECRET_PATTERN, type Mode, type Scenario } from "./scenarios.ts";
import { scaledClock } from "./scaled-clock.ts";
import { telemetryRequest } from "./send-events.ts";
import { seedPatternWriter } from "./seed-pattern.ts";

const GITHUB = { token: "bench-token", owner: "acme", repo: "telemetry-data" };
/** How long after its writer gave up a late write lands (simulated ms). */
const LATE_WRITE_MS = 10_000;
const GITHUB_LATENCY_MS: [number, number] = [100, 300];
const MEMORY_TMPDIR = "/dev/shm";
/** Requests sent before a scenario, to a spool of their own, so that its figures are not those of a cold process. */
const WARM_UP_REQUESTS = 2000;
const WARM_UP_PER_SECOND = 400;
/** flush-spool's schedule (netlify/functions/flush-spool.ts: every minute). */
const FLUSH_SCHEDULE_MS = MINUTE;

/** The service under test: the ingest handler in front of the spool, or the seeds' write path. */
type Service = SpoolService | { mode: "seeds' pattern"; write: ReturnType<typeof seedPatternWriter> };

export interface SpoolService {
  mode: "spool";
  runtime: Runtime & { ok: true };
  /** When each flush invocation began (simulated ms): woken, handed over or scheduled. */
  invocations: number[];
  /** The scheduled runs among them, and how long all of them ran (simulated ms, a hand-over's wait included). */
  scheduledRuns: number;
  flushMs: number;
  /** A woken flush, as ingestion starts one. */
  startFlush: () => Promise<void>;
  /** A run of the scheduled flush function. */
  flushOnSchedule: () => void;
}

/** A scenario's world, running: its clock, GitHub and service, and when on that clock the clients start. */
export interface Bench {
  clock: Clock;
  github: TimedGitHub;
  service: Service;
  start: number;
  /** Stops the flush schedule and the injected faults, and closes GitHub and the Blobs process. */
  close(): Promise<void>;
}

/**
 * The GitHub simulator on the scenario's scaled clock and the service in front of it; then, the
 * clock started, the flush-spool schedule (every minute) and the scenario's secondary-limit window.
 */
export async function setUp(scenario: Scenario, mode: Mode): Promise<Bench> {
  const clock = scaledClock(scenario.scale);
  const github = new TimedGitHub(
    {
      ...GITHUB,
      empty: true,
      latencyMs: GITHUB_LATENCY_MS,
      ...(scenario.failureRate !== undefined ? { failureRate: scenario.failureRate } : {}),
      now: () => clock.now(),
      sleep: (ms) => clock.sleep(ms),
      ...(scenario.secretEvery ? { pushProtection: { bench_secret: SECRET_PATTERN } } : {}),
      ...(scenario.lateWrites
        ? {
            beforeWrite: async () => {
              if (Math.random() < scenario.lateWrites!) await clock.sleep(WOKEN_FLUSH_BUDGET_MS + LATE_WRITE_MS);
            },
          }
        : {}),
    },
    () => clock.now(),
  );
  const server = await serveFakeGitHub(github);
  const blobs = mode === "spool" ? await startBlobsProcess() : undefined;
  const service: Service = blobs
    ? await startSpoolService(blobs, server.url, clock)
    : { mode: "seeds' pattern", write: seedPatternWriter({ ...GITHUB, url: server.url }) };
  const start = clock.now();
  const timers: NodeJS.Timeout[] = [];
  if (service.mode === "spool") timers.push(setInterval(service.flushOnSchedule, FLUSH_SCHEDULE_MS / scenario.scale));
  if (scenario.limitWindow) {
    const [from, length] = scenario.limitWindow;
    timers.push(setTimeout(() => github.secondaryLimitFor(length), from / scenario.scale));
  }
  if (scenario.revokedWindow) {
    const [from, length] = scenario.revokedWindow;
    timers.push(setTimeout(() => github.revokeTokenFor(length), from / scenario.scale));
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

interface BlobsProcess {
  store(name?: string): Store;
  close(): Promise<void>;
}

/**
 * Starts the Blobs server in a process of its own (the service is apart from the functions), its
 * files in memory where the machine has a tmpfs, and returns strongly consistent stores on it.
 */
async function startBlobsProcess(): Promise<BlobsProcess> {
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
  const [line] = (await once(child.stdout, "data")) as [Buffer];
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

/** The ingest handler's runtime with its spool in the Blobs process, warmed up, and its flushes started as on Netlify. */
async function startSpoolService(blobs: BlobsProcess, githubUrl: string, clock: Clock): Promise<SpoolService> {
  const runtime = createRuntime(configFor(githubUrl), {
    blobs: blobs.store(),
    clock,
    jobs: dashboardJobs,
  }) as Runtime & { ok: true };
  await warmUp(blobs.store("warm-up"));
  const service: SpoolService = {
    mode: "spool",
    runtime,
    invocations: [],
    scheduledRuns: 0,
    flushMs: 0,
    startFlush: async () => void flush(WOKEN_FLUSH_BUDGET_MS),
    // As flush-spool does: it looks first, and flushes (handing over as a woken flush does) only when something waits.
    flushOnSchedule: () => {
      service.scheduledRuns += 1;
      service.invocations.push(clock.now());
      void runtime.spool!.spool.oldest(1).then(async (waiting) => {
        if (waiting.length > 0) await flush(SCHEDULED_FLUSH_BUDGET_MS, false);
      });
    },
  };
  // As the flush function does: a run out of budget with events waiting starts the next one.
  const flush = async (budget: number, invocation = true) => {
    const started = clock.now();
    if (invocation) service.invocations.push(started);
    await runtime.spool!.flush(budget, async () => {
      setTimeout(() => void flush(WOKEN_FLUSH_BUDGET_MS));
    });
    service.flushMs += clock.now() - started;
  };
  return service;
}

/**
 * Runs the ingest path on a throwaway spool, then a flush of it into a throwaway GitHub, so that
 * code and connections are warm when the clock starts: the flusher shares the ingest's process,
 * and its first run (Octokit's and the flush's code compiled on the spot) would otherwise hold up
 * the first acknowledgements.
 */
async function warmUp(store: Store): Promise<void> {
  const github = await serveFakeGitHub(new FakeGitHub({ ...GITHUB, empty: true }));
  const runtime = createRuntime(configFor(github.url), { blobs: store }) as Runtime & { ok: true };
  const requests: Promise<Response>[] = [];
  for (let index = 0; index < WARM_UP_REQUESTS; index += 1) {
    requests.push(
      ingest(telemetryRequest({ hwid: "warm-up", event_name: "warm_up", app_version: "0", metadata: { index } }), {
        runtime,
      }),
    );
    if (index % 20 === 19) await new Promise((resolve) => setTimeout(resolve, (20 * 1000) / WARM_UP_PER_SECOND));
  }
  await Promise.all(requests);
  await runtime.spool!.flush(SCHEDULED_FLUSH_BUDGET_MS);
  await github.close();
}

function configFor(githubUrl: string): Config {
  return loadConfig({
    GITHUB_TOKEN: GITHUB.token,
    GITHUB_REPOSITORY: `${GITHUB.owner}/${GITHUB.repo}`,
    GITHUB_API_URL: githubUrl,
  });
}
