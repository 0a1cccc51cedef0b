import { createHmac } from "node:crypto";
import { systemClock, type Clock } from "./clock.ts";
import {
  ConfigError,
  GITHUB_WRITES_PER_HOUR,
  GITHUB_WRITES_PER_MINUTE,
  jobPaths,
  loadConfig,
  type Config,
  type HealthConfig,
  type IngestConfig,
} from "./config.ts";
import type { PublishReport } from "./insights/publish-insights.ts";
import { applyRetention, type RetentionReport } from "./lifecycle/apply-retention.ts";
import type { DashboardJobs } from "./lifecycle/dashboard-jobs.ts";
import { ERASURE_BUDGET_MS, ERASURE_WAKE_EVERY_MS, type ErasureRun } from "./lifecycle/erase-installs.ts";
import { ErasureMarker } from "./lifecycle/erasure-marker.ts";
import { ErasureRequests } from "./lifecycle/erasure-requests.ts";
import { InstallIndex } from "./lifecycle/install-index.ts";
import { keptKey } from "./lifecycle/kept-key.ts";
import { log } from "./log.ts";
import { callFlush } from "./platform/call-flush.ts";
import { deployOf } from "./platform/deploy-of.ts";
import { spoolBlobs, spoolStoreName, spoolStoreOf } from "./platform/spool-blobs.ts";
import type { BlobStore } from "./spool/blob-store.ts";
import { FlushLease, LEASE_TTL_MS } from "./spool/flush-lease.ts";
import { FlushWaker } from "./spool/flush-waker.ts";
import { Flusher, WOKEN_FLUSH_BUDGET_MS, WOKEN_FLUSH_LEAD_MS, type FlushReport } from "./spool/flusher.ts";
import { SeenIds } from "./spool/seen-ids.ts";
import { Spool } from "./spool/spool.ts";
import type { EventStore } from "./storage/event-store.ts";
import { openRepository } from "./storage/open-repository.ts";

/** Erasure requests and the job that does them (they need the spool's Netlify Blobs). */
export interface ErasureRuntime {
  requests: ErasureRequests;
  /** A page of waiting requests, in one run of at most `budgetMs`, unless another runs (see eraseInstalls). */
  run(budgetMs: number): Promise<ErasureRun>;
  /** After a request was queued: calls `start` unless a run is under way or one was started in the last minutes. */
  wake(start: () => Promise<void>): Promise<boolean>;
  /** Starts a run in the background function (at the deploy's URL, with the jobs' key); without a key, in this process. */
  start(requestUrl: string): Promise<void>;
}

export interface SpoolRuntime {
  spool: Spool;
  lease: FlushLease;
  /** See Flusher.flush. */
  flush(budgetMs: number, handOver?: () => Promise<void>): Promise<FlushReport | undefined>;
  /** After an event was accepted: calls `start` to begin a flush, unless one is under way. */
  wake(start: () => Promise<void>): Promise<boolean>;
  /**
   * Starts a flush in another invocation: calls the flush function at the deploy's own URL (at
   * `requestUrl`'s origin only where none is known) with the jobs' key. Without a key (the local
   * store), runs it in this process, whose life outlasts the answer there, and so the runs it hands over to.
   */
  startFlush(requestUrl: string): Promise<void>;
  /** Forgets the client-given ids of days past the deduplication window, and expires what quarantine kept 30 days (a bounded part a run). */
  prune(): Promise<void>;
}

/** What a function instance works with: a store (and the spool in front of it), or the reason there is none. */
export type Runtime =
  | {
      ok: true;
      ingest: IngestConfig;
      netlifyDev: boolean;
      /** The one clock every part of the instance reads. */
      clock: Clock;
      /** What a caller of the flush function must present; none: the flush function takes no caller. */
      flushKey: string | undefined;
      health: HealthConfig;
      store: EventStore;
      spool: SpoolRuntime | undefined;
      /** The hourly job, once: rollups and dashboard brought up to date within `budgetMs` (see publishInsights). */
      publish(budgetMs: number): Promise<PublishReport>;
      /** The daily job, once: raw files past TELEMETRY_RETENTION_DAYS removed (see applyRetention); undefined when every day is kept. */
      retain(budgetMs: number): Promise<RetentionReport | undefined>;
      erasure: ErasureRuntime | undefined;
    }
  | { ok: false; error: ConfigError };

const LOCAL_LOG_KEY = "telemetry erasure log (local store)";

export interface RuntimeParts {
  /** Where the spool and the flusher's lease live; Netlify Blobs unless given. */
  blobs?: BlobStore;
  clock?: Clock;
  leaseTtlMs?: number;
  /** The publish and erasure jobs; without them (a function that runs neither), asking for one throws. */
  jobs?: DashboardJobs | undefined;
}

export function createRuntime(
  config: Config,
  {
    blobs = spoolBlobs(spoolStoreOf(config.deployContext, undefined), spoolStoreName(config.storage)),
    clock = systemClock,
    leaseTtlMs = LEASE_TTL_MS,
    jobs,
  }: RuntimeParts = {},
): Runtime {
  const dashboard = (): DashboardJobs => {
    if (jobs === undefined)
      throw new Error("This function was built without the dashboard's jobs: give it dashboardJobs");
    return jobs;
  };
  const { store, files, issues } = openRepository(config, clock);
  const { ingest, netlifyDev, flushKey, health } = config;
  // The erasure log's hashes are keyed with the jobs' key, which no client holds; the local store may have none, and no log worth a key.
  const logKey = flushKey ?? LOCAL_LOG_KEY;
  // The rollups name the installs of their kept samples by a key that must outlive every credential (see keptKey); without the spool there is no erasure to forget them.
  const installKey = config.spool.enabled
    ? keptKey(blobs, "rollup-installs")
    : async () => createHmac("sha256", logKey).update("rollup installs").digest("hex");
  // What every job commits with: the files, under the flusher's lease and pace (none without the spool).
  const jobDeps = (lease: FlushLease | undefined) => ({
    files,
    clock,
    lease,
    limits: config.spool.limits,
    prefix: config.pathPrefix,
    history: config.history,
    installKey,
  });
  const alertsWith = (spool: { spool: Spool; lease: FlushLease } | undefined) => ({
    issues,
    kinds: config.alerts,
    clock,
    spool,
    maxWaitMs: health.maxWaitMs,
    // Issues and comments are content writes too: the alerts get what the flusher's pace leaves of GitHub's limits.
    writesLeft: Math.min(
      GITHUB_WRITES_PER_MINUTE - config.spool.limits.perMinute,
      GITHUB_WRITES_PER_HOUR - config.spool.limits.perHour,
    ),
  });
  const publishWith = (spool: { spool: Spool; lease: FlushLease } | undefined) => (budgetMs: number) =>
    dashboard().publishInsights({ ...jobDeps(spool?.lease), alerts: alertsWith(spool) }, budgetMs);
  const retainWith = (lease: FlushLease | undefined) => async (budgetMs: number) =>
    config.retentionDays === undefined
      ? undefined
      : applyRetention(jobDeps(lease), { keepDays: config.retentionDays, budgetMs });
  const instance = { ok: true as const, ingest, netlifyDev, clock, flushKey, health, store };
  if (!config.spool.enabled) {
    return {
      ...instance,
      spool: undefined,
      publish: publishWith(undefined),
      retain: retainWith(undefined),
      erasure: undefined,
    };
  }
  const spool = new Spool(blobs, clock);
  const lease = new FlushLease(blobs, clock, leaseTtlMs);
  // The flusher marks the installs it stores, so that a request for an id never stored reads no file.
  const index = new InstallIndex(blobs, clock, logKey);
  const flusher = new Flusher({ blobs, spool, lease, store: index.watch(store), clock, limits: config.spool.limits });
  const waker = new FlushWaker(lease, clock, WOKEN_FLUSH_LEAD_MS);
  const requests = new ErasureRequests(blobs, clock, logKey);
  const marker = new ErasureMarker(blobs, clock);
  // Without a key the flush runs in this process (netlify dev's, which outlives the answer and runs
  // no schedule): a run that stops with events waiting starts the next one here too.
  const flushHere = (): void => void flusher.flush(WOKEN_FLUSH_BUDGET_MS, async () => flushHere());
  const runErasuresNow = (budgetMs: number) =>
    dashboard().eraseInstalls({ ...jobDeps(lease), spool, requests, index, marker, logKey }, budgetMs);
  return {
    ...instance,
    publish: publishWith({ spool, lease }),
    retain: retainWith(lease),
    erasure: {
      requests,
      run: runErasuresNow,
      wake: async (start) => {
        if (!(await marker.wakes(ERASURE_WAKE_EVERY_MS))) return false;
        await start();
        return true;
      },
      start: async (requestUrl) => {
        if (flushKey === undefined) void runErasuresNow(ERASURE_BUDGET_MS);
        else await callFlush(new URL(jobPaths.erase, config.siteUrl ?? requestUrl), flushKey);
      },
    },
    spool: {
      spool,
      lease,
      flush: (budgetMs, handOver) => flusher.flush(budgetMs, handOver),
      wake: (start) => waker.wake(start),
      startFlush: async (requestUrl) => {
        if (flushKey === undefined) flushHere();
        else await callFlush(new URL(jobPaths.flush, config.siteUrl ?? requestUrl), flushKey);
      },
      prune: async () => {
        await new SeenIds(blobs, clock).prune();
        await spool.quarantine.expire();
      },
    },
  };
}

/** What Netlify tells a function of its deploy and site (`context.deploy`, `context.site`). */
export interface DeployInfo {
  deploy?: { context?: string; id?: string; published?: boolean } | undefined;
  site?: { name?: string | undefined; url?: string | undefined } | undefined;
}

/** Reads the configuration for the deploy told; a configuration error is kept and answered as 503 on every request. */
function loadRuntime(told: DeployInfo, jobs: DashboardJobs | undefined): Runtime {
  try {
    const deploy = deployOf(told);
    const config = loadConfig(undefined, deploy.context);
    const scope = spoolStoreOf(config.deployContext, deploy.published);
    // A deployed function calls its jobs at its own deploy's address, never the site's URL variable (production's).
    const runtime = createRuntime(deploy.local ? config : { ...config, siteUrl: deploy.url }, {
      blobs: spoolBlobs(scope, spoolStoreName(config.storage)),
      jobs,
    });
    if (runtime.ok) {
      log("info", "storage_ready", { ...runtime.store.describe(), spool: runtime.spool ? scope : "off" });
    }
    return runtime;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log("error", error.code, { message: error.message });
    return { ok: false, error };
  }
}

/**
 * The runtime for the deploy told, loaded on the first call and again only when the deploy told
 * changes: an instance serves one deploy, but that deploy stops being the published one when
 * another is, and must then leave the site's spool.
 */
export function runtimeLoader(jobs?: DashboardJobs): (told: DeployInfo) => Runtime {
  let loaded: { deploy: string; runtime: Runtime } | undefined;
  return ({ deploy, site }) => {
    const told = JSON.stringify([deploy?.context, deploy?.id, deploy?.published]);
    if (loaded?.deploy !== told) loaded = { deploy: told, runtime: loadRuntime({ deploy, site }, jobs) };
    return loaded.runtime;
  };
}
