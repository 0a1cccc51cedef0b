import { createHmac } from "node:crypto";
import { MINUTE_MS } from "../clock.ts";
import type { HistoryMode } from "../config.ts";
import {
  commitUnderLease,
  type LeasedFiles,
  type PacedCommit,
  type RecordWrite,
  type CheckLease,
} from "../jobs/commit-under-lease.ts";
import { runJob, type JobRun } from "../jobs/run-job.ts";
import { squashBranch } from "../jobs/squash-branch.ts";
import { log, messageOf } from "../log.ts";
import { flusherBehind } from "../spool/flush-lease.ts";
import type { Spool } from "../spool/spool.ts";
import { StoreUnavailableError } from "../storage/event-store.ts";
import { HeadMovedError } from "../storage/repository-files.ts";
import { keyedInstall } from "../tally/figures/figure.ts";
import { dropWaiting } from "./drop-waiting.ts";
import type { ErasureMarker } from "./erasure-marker.ts";
import type { ErasureProgress, ErasureRequests, PendingErasure } from "./erasure-requests.ts";
import type { InstallIndex } from "./install-index.ts";
import { planErasure, type ErasurePlan } from "./plan-erasure.ts";
import { redrawnDashboard } from "./redrawn-dashboard.ts";

/** What a run keeps for itself after reading: the spool, the commit, the squash. */
const COMMIT_RESERVE_MS = 30_000;
/** A background function has 15 minutes: the job stops reading well before. */
export const ERASURE_BUDGET_MS = 14 * 60 * 1000;
/** A request starts a run at most this often; the schedule (every 10 minutes) takes the rest. */
export const ERASURE_WAKE_EVERY_MS = 5 * MINUTE_MS;
/** The flusher's lease is tried this long at most: a flush's commit, never a backlog; busy, the requests wait for the next run. */
const LEASE_WAIT_MS = 2000;
/** Requests a run takes on: one page of the queue. */
const PAGE = 1000;
/** What the reading keeps for the rest: past it, no new day is begun. */
const READ_MARGIN_MS = 10_000;
/** Snapshots read at most when a flush commits between the read and the lease. */
const SNAPSHOT_TRIES = 3;
/** How much of an id the commit message names: a keyed hash, never the id. */
const MESSAGE_HASH_HEX_CHARS = 8;

export interface ErasureRun {
  outcome: "erased" | "partial" | "nothing" | "running" | "yielded" | "moved" | "busy" | "paced" | "failed";
  requests: number;
  /** Requests answered from the install index (no line ever stored), without reading a file. */
  unknown: number;
  done: number;
  lines_removed: number;
  files_changed: number;
  spool_events_dropped: number;
  /** The installs' events GitHub's push protection (or a bug) had set aside in the spool's quarantine/, removed. */
  quarantined_events_dropped: number;
  commit: string | null;
  /** The root commit that replaced the history (TELEMETRY_HISTORY=squash). */
  squashed: string | null;
  archive_downloads: number;
  error: string | null;
}

export interface ErasureDeps extends LeasedFiles {
  prefix: string;
  /** squash: a request is done only once the history was squashed after its commit. */
  history: HistoryMode;
  spool: Spool;
  requests: ErasureRequests;
  index: InstallIndex;
  marker: ErasureMarker;
  /** The key of the hashes that name the installs in commit messages. */
  logKey: string;
  /** The key the hourly job names the installs of its kept samples by (see keyedInstall): the erasure forgets them by it. */
  installKey: () => Promise<string>;
}

type Note = JobRun<ErasureRun>["note"];
type Found = Partial<ErasureRun> & Pick<ErasureRun, "outcome">;

/**
 * The erasure job, one run at a time (the marker): a page of waiting requests; those the install
 * index says were never stored are done at once, the others looked for in one snapshot of the
 * branch read WITHOUT the flusher's lease. Then the lease, tried briefly (a flush has priority),
 * is held only to drop the installs' waiting events and commit the removed lines on top of exactly
 * that snapshot (a flush that committed meanwhile: read again, a few times at most). With
 * TELEMETRY_HISTORY=squash the history is squashed after the commit, and a request is done only
 * once a squash after its lines' commit landed. A run out of time commits what it read and the
 * next goes on from the day it stopped at. The run gives way when the flusher is behind.
 */
export async function eraseInstalls(deps: ErasureDeps, budgetMs: number): Promise<ErasureRun> {
  return runJob<ErasureRun>(deps, {
    event: "erasure_run",
    budgetMs,
    commitReserveMs: COMMIT_RESERVE_MS,
    report: {
      requests: 0,
      unknown: 0,
      done: 0,
      lines_removed: 0,
      files_changed: 0,
      spool_events_dropped: 0,
      quarantined_events_dropped: 0,
      commit: null,
      squashed: null,
      archive_downloads: 0,
    },
    run: async ({ deadline, note }) => {
      if (!(await deps.marker.claim(deadline))) return { outcome: "running" };
      try {
        return await eraseOnce(deps, deadline, note);
      } finally {
        await deps.marker
          .release()
          .catch((error: unknown) => log("warn", "erasure_marker_not_released", { message: messageOf(error) }));
      }
    },
  });
}

async function eraseOnce(deps: ErasureDeps, deadline: number, note: Note): Promise<Found> {
  const { requests, index, clock } = deps;
  const page = await requests.pending(PAGE);
  if (page.length === 0) return { outcome: "nothing" };
  note({ requests: page.length });
  if (await spoolBehind(deps)) return { outcome: "yielded" };
  await index.fold();
  const complete = await index.complete();
  const unknown = new Set<PendingErasure>();
  if (complete) {
    for (const request of page) if (!request.progress && !(await index.holdsAny(request.forms))) unknown.add(request);
  }
  const searched = page.filter((request) => !unknown.has(request));
  let downloads = 0;
  for (let attempt = 1; ; attempt += 1) {
    let plan: ErasurePlan | undefined;
    if (searched.length > 0) {
      const hwids = searched.flatMap((request) => request.forms);
      const installKey = await deps.installKey();
      plan = await planErasure(deps.files, {
        prefix: deps.prefix,
        hwids,
        installs: new Set(hwids.map((hwid) => keyedInstall(installKey, hwid))),
        deadline: deadline - COMMIT_RESERVE_MS,
        from: new Map(searched.flatMap((r) => (r.progress?.from ? r.forms.map((f) => [f, r.progress!.from!]) : []))),
        readBy: { at: deadline - COMMIT_RESERVE_MS - READ_MARGIN_MS, clock },
      });
      downloads += 1;
      note({ archive_downloads: downloads });
      if (plan.forgotten > 0) plan.changes.push(...(await redrawnDashboard(plan, deps)));
    }
    const settled = await commitUnderLease(deps, clock.now() + LEASE_WAIT_MS, (commit, record, check) =>
      settle(deps, { page, unknown, plan, deadline, note }, commit, record, check),
    ).catch((error: unknown): Found => {
      if (error instanceof StoreUnavailableError && (error.reason === "paced" || error.reason === "rate_limited")) {
        return { outcome: "paced" };
      }
      throw error;
    });
    if (settled === "busy") return { outcome: "busy" };
    if ("progress" in settled) {
      if (plan && !complete && plan.stoppedAt === undefined) {
        // A whole read: every id stored until this snapshot is marked, and the flusher marks every later one.
        await index.mark(plan.seen);
        await index.markComplete();
      }
      return finish(deps, page, settled, note);
    }
    if (
      settled.outcome !== "moved" ||
      attempt >= SNAPSHOT_TRIES ||
      clock.now() > deadline - COMMIT_RESERVE_MS - READ_MARGIN_MS
    ) {
      return settled;
    }
  }
}

/** What the run did under the lease, for what follows it: each request's progress, and those it leaves waiting. */
interface Settled {
  progress: Map<PendingErasure, ErasureProgress>;
  /** Requests that are not done this run: a squash owed and not made, or an install stored since it was judged unknown. */
  waiting: Set<PendingErasure>;
  squashError: string | undefined;
}

/**
 * Under the lease, only what must not race a flush: the commit on top of the snapshot, the
 * installs' waiting events dropped, the index read again (a flush that committed between the
 * check and the lease logged its installs first), the progress a squash depends on, the squash.
 */
async function settle(
  deps: ErasureDeps,
  {
    page,
    unknown,
    plan,
    deadline,
    note,
  }: {
    page: PendingErasure[];
    unknown: ReadonlySet<PendingErasure>;
    plan: ErasurePlan | undefined;
    deadline: number;
    note: Note;
  },
  commit: PacedCommit,
  record: RecordWrite,
  check: CheckLease,
): Promise<Settled | Found> {
  const { requests, index } = deps;
  let sha: string | undefined;
  if (plan && plan.changes.length > 0) {
    const removed = plan.files.reduce((sum, file) => sum + file.removed, 0);
    const names = page.map((request) => hashOf(deps.logKey, request.hwid)).join(", ");
    const message = `Erase ${page.length} install(s) (${names}): ${removed} line(s) from ${plan.files.length} file(s)`;
    try {
      sha = await commit(plan.changes, message, { deadline, ...(plan.head ? { expectedHead: plan.head } : {}) });
    } catch (error) {
      // A flush committed between the read and the lease: nothing was changed, the read is redone.
      if (error instanceof HeadMovedError) return { outcome: "moved" };
      throw error;
    }
    note({ commit: sha ?? null, lines_removed: removed, files_changed: plan.files.length });
  }
  const dropped = await dropWaiting(deps.spool, new Set(page.flatMap((request) => request.forms)));
  note({ spool_events_dropped: [...dropped.values()].reduce((sum, n) => sum + n, 0) });
  const waiting = new Set<PendingErasure>();
  if (unknown.size > 0) {
    await index.fold();
    for (const request of unknown) if (await index.holdsAny(request.forms)) waiting.add(request);
  }
  note({ unknown: unknown.size - waiting.size });
  const progress = new Map<PendingErasure, ErasureProgress>();
  const kept: Promise<void>[] = [];
  for (const request of page) {
    const sum = (counts: ReadonlyMap<string, number> | undefined) =>
      request.forms.reduce((total, form) => total + (counts?.get(form) ?? 0), 0);
    const before = request.progress ?? { lines_removed: 0, spool_events_dropped: 0, commit: null };
    const lines = sum(plan?.lines);
    const next: ErasureProgress = {
      lines_removed: before.lines_removed + lines,
      spool_events_dropped: before.spool_events_dropped + sum(dropped),
      commit: lines > 0 ? (sha ?? before.commit) : before.commit,
      ...(plan?.stoppedAt ? { from: plan.stoppedAt } : {}),
    };
    progress.set(request, next);
    // Kept before the squash where it matters: if the squash fails, or the function dies, the next run knows one is owed, or where to go on.
    if (lines > 0 || next.from !== undefined) kept.push(requests.record(request, next));
  }
  await Promise.all(kept);
  let squashError: string | undefined;
  const owed = [...progress.values()].some((next) => next.commit !== null);
  if (deps.history === "squash" && owed) {
    const head = sha ?? plan?.head;
    let squashed: string | undefined;
    try {
      squashed = head ? await squashBranch(deps.files, head, deadline, { record, check }) : undefined;
      note({ squashed: squashed ?? null });
    } catch (error) {
      squashError = `the history was not squashed: ${messageOf(error)}`;
    }
    // A folder keeps no history (no head): nothing is owed there.
    if (squashed === undefined && plan?.head !== undefined) {
      for (const [request, next] of progress) if (next.commit !== null) waiting.add(request);
    }
  }
  return { progress, waiting, squashError };
}

/** After the lease: the installs' quarantined events removed, and each request that is done logged as done. */
async function finish(deps: ErasureDeps, page: PendingErasure[], settled: Settled, note: Note): Promise<Found> {
  const { progress, waiting, squashError } = settled;
  const quarantined = await deps.spool.quarantine.removeEventsOf(page.flatMap((request) => request.forms));
  note({ quarantined_events_dropped: quarantined });
  let done = 0;
  for (const [request, next] of progress) {
    if (next.from !== undefined || waiting.has(request)) continue;
    await deps.requests.complete(request, next);
    done += 1;
  }
  note({ done });
  if (squashError !== undefined) return { outcome: "failed", error: squashError };
  return { outcome: done === page.length ? "erased" : "partial" };
}

/**
 * Whether events wait in the spool longer than the flusher's own pace (see flusherBehind): then the
 * flusher goes first. Held back by the pace, they cost the run's one commit a turn of it only.
 */
async function spoolBehind({ spool, lease, clock }: ErasureDeps): Promise<boolean> {
  const [oldest] = await spool.oldest(1);
  if (oldest === undefined) return false;
  const state = (await lease?.read()) ?? { resume_at: 0, blocked_until: 0 };
  return flusherBehind(state, oldest.at, clock.now());
}

function hashOf(key: string, hwid: string): string {
  return createHmac("sha256", key).update(hwid).digest("hex").slice(0, MESSAGE_HASH_HEX_CHARS);
}
