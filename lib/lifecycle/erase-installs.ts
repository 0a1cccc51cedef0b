import { createHmac } from "node:crypto";
import type { HistoryMode } from "../config.ts";
import type { LeasedFiles } from "../jobs/commit-under-lease.ts";
import { runJob } from "../jobs/run-job.ts";
import type { Spool } from "../spool/spool.ts";
import type { FileChange, RepositoryFiles } from "../storage/repository-files.ts";
import type { ErasureRequests } from "./erasure-requests.ts";

/** What a run keeps for itself after reading: the spool, the commit. */
const COMMIT_RESERVE_MS = 30_000;
/** A background function has 15 minutes: the job stops reading well before. */
export const ERASURE_BUDGET_MS = 14 * 60 * 1000;
/** How much of an id the commit message names: a keyed hash, never the id. */
const MESSAGE_HASH_HEX_CHARS = 8;

/** Which files lose how many lines, and the commit of the files read. */
export interface ErasurePlan {
  head: string | undefined;
  files: { path: string; removed: number }[];
  /** Lines removed, by install id. */
  lines: Map<string, number>;
  changes: FileChange[];
}

/**
 * Every line of the installs `hwids` (as stored: hashed already in hash mode) in the raw files
 * under `prefix`, read from one snapshot of the branch: each file that holds one, rewritten
 * without those lines, every other line kept byte for byte and in order.
 */
export async function planErasure(
  files: RepositoryFiles,
  { prefix, hwids, deadline }: { prefix: string; hwids: readonly string[]; deadline: number },
): Promise<ErasurePlan> {
  const wanted = new Set(hwids);
  // As the ids are written inside a line: JSON-escaped.
  const written = hwids.map((hwid) => JSON.stringify(hwid).slice(1, -1));
  const plan: ErasurePlan = { head: undefined, files: [], lines: new Map(hwids.map((h) => [h, 0])), changes: [] };
  const { head } = await files.readTree(
    prefix,
    (path, bytes) => {
      if (!path.endsWith(".ndjson")) return;
      const text = bytes.toString("utf8");
      if (!written.some((hwid) => text.includes(hwid))) return;
      let removed = 0;
      const kept = text.split("\n").filter((line) => {
        const hwid = written.some((id) => line.includes(id)) ? hwidOf(line) : undefined;
        if (hwid === undefined || !wanted.has(hwid)) return true;
        plan.lines.set(hwid, plan.lines.get(hwid)! + 1);
        removed += 1;
        return false;
      });
      if (removed === 0) return;
      plan.files.push({ path, removed });
      // A part left with no line is removed: git keeps no empty file worth keeping, and no reader misses it.
      const content = kept.join("\n");
      plan.changes.push({ path, content: content === "" ? null : content });
    },
    { deadline },
  );
  plan.head = head;
  return plan;
}

export interface ErasureRun {
  outcome: "erased" | "nothing" | "busy" | "paced" | "failed";
  requests: number;
  lines_removed: number;
  files_changed: number;
  spool_events_dropped: number;
  commit: string | null;
  /** The root commit that replaced the history (TELEMETRY_HISTORY=squash). */
  squashed: string | null;
  error: string | null;
}

export interface ErasureDeps extends LeasedFiles {
  prefix: string;
  /** squash: the history is replaced by one commit of the erased tree, so that no commit holds the lines. */
  history: HistoryMode;
  spool: Spool;
  requests: ErasureRequests;
  /** The key of the hashes that name the installs in commit messages. */
  logKey: string;
}

/**
 * The erasure job: every waiting request at once, holding the flusher's lease from the first read
 * to the commit, so that no flush adds a line meanwhile: the raw files read from one snapshot, the
 * lines of those installs removed in one commit on top of exactly that snapshot (within the
 * flusher's write pace), their events still waiting in the spool dropped; then each request is
 * logged done. A run that fails leaves the requests waiting for the next.
 */
export async function eraseInstalls(deps: ErasureDeps, budgetMs: number): Promise<ErasureRun> {
  const { requests, spool } = deps;
  return runJob<ErasureRun>(deps, {
    event: "erasure_run",
    budgetMs,
    commitReserveMs: COMMIT_RESERVE_MS,
    history: deps.history,
    report: { requests: 0, lines_removed: 0, files_changed: 0, spool_events_dropped: 0, commit: null, squashed: null },
    run: async ({ deadline, note, underLease }) => {
      const waiting = await requests.pending();
      if (waiting.length === 0) return { outcome: "nothing" };
      note({ requests: waiting.length });
      const hwids = [...new Set(waiting.map((request) => request.hwid))];
      const done = await underLease(async (commit) => {
        const plan = await planErasure(deps.files, {
          prefix: deps.prefix,
          hwids,
          deadline: deadline - COMMIT_RESERVE_MS,
        });
        const dropped = await dropWaiting(spool, new Set(hwids));
        const removed = [...plan.lines.values()].reduce((sum, n) => sum + n, 0);
        const message = `Erase ${hwids.length} install(s) (${hwids.map((hwid) => hashOf(deps.logKey, hwid)).join(", ")}): ${removed} line(s) from ${plan.files.length} file(s)`;
        const committed =
          plan.changes.length > 0
            ? await commit(plan.changes, message, plan.head ? { expectedHead: plan.head } : {})
            : { commit: null, squashed: null };
        return { plan, dropped, removed, ...committed };
      });
      for (const request of waiting) {
        await requests.complete(request, {
          linesRemoved: done.plan.lines.get(request.hwid) ?? 0,
          spoolEventsDropped: done.dropped.get(request.hwid) ?? 0,
          commit: done.commit ?? undefined,
        });
      }
      return {
        outcome: "erased",
        lines_removed: done.removed,
        files_changed: done.plan.files.length,
        spool_events_dropped: [...done.dropped.values()].reduce((sum, n) => sum + n, 0),
        commit: done.commit,
        squashed: done.squashed,
      };
    },
  });
}

/** Drops the waiting events of `hwids` from the spool (the caller holds the lease: no flush reads it meanwhile); counts by id. */
async function dropWaiting(spool: Spool, hwids: ReadonlySet<string>): Promise<Map<string, number>> {
  const dropped = new Map<string, number>();
  const entries = await spool.list();
  const records = await spool.read(entries);
  for (const [i, record] of records.entries()) {
    const kept = record.events.filter((event) => !hwids.has(event.hwid));
    if (kept.length === record.events.length) continue;
    for (const event of record.events) {
      if (hwids.has(event.hwid)) dropped.set(event.hwid, (dropped.get(event.hwid) ?? 0) + 1);
    }
    const keptIds = new Set(kept.map((event) => event.event_id));
    const entry = entries[i]!;
    if (kept.length === 0) await spool.remove([entry]);
    else
      await spool.rewrite(entry, {
        ...record,
        events: kept,
        client_ids: record.client_ids.filter((id) => keptIds.has(id)),
      });
  }
  return dropped;
}

function hwidOf(line: string): string | undefined {
  try {
    const value = JSON.parse(line) as { hwid?: unknown };
    return typeof value.hwid === "string" ? value.hwid : undefined;
  } catch {
    return undefined;
  }
}

function hashOf(key: string, hwid: string): string {
  return createHmac("sha256", key).update(hwid).digest("hex").slice(0, MESSAGE_HASH_HEX_CHARS);
}
