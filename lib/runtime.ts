import { resolve } from "node:path";
import type { BlobStore } from "./spool/blob-store.ts";
import { systemClock, type Clock } from "./clock.ts";
import { ConfigError, loadConfig, type Config, type IngestConfig } from "./config.ts";
import { FlushLease } from "./spool/flush-lease.ts";
import { flushSpool, handOverDelay, WRITE_BUDGET_MS, type FlushReport } from "./spool/flusher.ts";
import { GitHubStore } from "./storage/github-store.ts";
import { LocalStore } from "./storage/local-store.ts";
import { log, messageOf } from "./log.ts";
import { spoolBlobs } from "./platform/blobs.ts";
import { SeenIds } from "./spool/seen-ids.ts";
import { Spool } from "./spool/spool.ts";
import type { EventStore } from "./storage/store.ts";
import { FlushWaker } from "./spool/flush-waker.ts";

/**
 * A flush woken by ingestion runs after its function's answer, inside that function's time limit
 * (10 s by default on Netlify), a commit under way allowed 2 s more; a scheduled one inside the
 * 30 s of scheduled functions.
 */
export const WOKEN_FLUSH_BUDGET_MS = 7_000;
export const SCHEDULED_FLUSH_BUDGET_MS = 25_000;
/** How far ahead of the next allowed write a woken flush can still make it: its budget, less the write. */
const WOKEN_FLUSH_LEAD_MS = WOKEN_FLUSH_BUDGET_MS - WRITE_BUDGET_MS;
/** The longest a flush waits, after its run, before handing over: what is left of a 10 s function. */
const HAND_OVER_MAX_DELAY_MS = 1500;
/** How long a dead flusher keeps others out: longer than any run's budget, renewed every round. */
export const LEASE_TTL_MS = 30_000;

export interface SpoolRuntime {
  spool: Spool;
  lease: FlushLease;
  /**
   * Runs a flush of at most `budgetMs`; one at a time per instance, later calls share the running
   * one. When it stopped with events waiting, calls `handOver` to start the next run (another
   * invocation: this one's time is up), at most 1.5 s later (see handOverDelay).
   */
  flush(budgetMs: number, handOver?: () => Promise<void>): Promise<FlushReport | undefined>;
  /** After an event was accepted: calls `start` to begin a flush, unless one is under way. */
  wake(start: () => Promise<void>): Promise<boolean>;
  /** Forgets the client-given ids of days past the deduplication window. */
  prune(): Promise<void>;
}

/** What a function instance works with: a store (and the spool in front of it), or the reason there is none. */
export type Runtime =
  | { ok: true; ingest: IngestConfig; netlifyDev: boolean; store: EventStore; spool: SpoolRuntime | undefined }
  | { ok: false; error: ConfigError };

export interface RuntimeParts {
  /** Where the spool and the flusher's lease live; Netlify Blobs unless given. */
  blobs?: BlobStore;
  clock?: Clock;
  leaseTtlMs?: number;
}

export function createStore(config: Config, clock: Clock = systemClock): EventStore {
  const { storage, pathPrefix, maxFileBytes } = config;
  return storage.kind === "github"
    ? // Behind the spool, a rate limit stops the flush and is recorded for all instances; waiting would hold the lease idle.
      new GitHubStore(storage.github, pathPrefix, maxFileBytes, { clock, waitOnRateLimit: !config.spool.enabled })
    : new LocalStore(resolve(storage.dir), pathPrefix, maxFileBytes);
}

export function createRuntime(
  config: Config,
  { blobs = spoolBlobs, clock = systemClock, leaseTtlMs = LEASE_TTL_MS }: RuntimeParts = {},
): Runtime {
  const store = createStore(config, clock);
  const { ingest, netlifyDev } = config;
  if (!config.spool.enabled) return { ok: true, ingest, netlifyDev, store, spool: undefined };
  const spool = new Spool(blobs, clock);
  const lease = new FlushLease(blobs, clock, leaseTtlMs);
  let running: Promise<FlushReport | undefined> | undefined;
  const flush = (budgetMs: number, handOver?: () => Promise<void>) =>
    (running ??= flushSpool({ blobs, spool, lease, store, clock, limits: config.spool.limits }, budgetMs)
      .then(async (report) => {
        const delay = handOver
          ? handOverDelay(report, clock.now(), WOKEN_FLUSH_LEAD_MS, HAND_OVER_MAX_DELAY_MS)
          : undefined;
        if (delay !== undefined) {
          await clock.sleep(delay);
          await handOver!();
        }
        return report;
      })
      .catch((error: unknown) => {
        log("error", "spool_flush_failed", { message: messageOf(error) });
        return undefined;
      })
      .finally(() => {
        running = undefined;
      }));
  const waker = new FlushWaker(lease, clock, WOKEN_FLUSH_LEAD_MS);
  return {
    ok: true,
    ingest,
    netlifyDev,
    store,
    spool: { spool, lease, flush, wake: (start) => waker.wake(start), prune: () => new SeenIds(blobs, clock).prune() },
  };
}

/** Reads the configuration once per instance; a configuration error is kept and answered as 503 on every request. */
export function loadRuntime(deployContext?: string, parts?: RuntimeParts): Runtime {
  try {
    const runtime = createRuntime(loadConfig(undefined, deployContext), parts);
    if (runtime.ok) log("info", "storage_ready", { ...runtime.store.describe(), spool: runtime.spool ? "on" : "off" });
    return runtime;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log("error", "storage_not_configured", { message: error.message });
    return { ok: false, error };
  }
}
