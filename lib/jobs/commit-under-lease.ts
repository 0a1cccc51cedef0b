import type { Clock } from "../clock.ts";
import type { WriteLimits } from "../config.ts";
import { log, messageOf } from "../log.ts";
import { StoreUnavailableError } from "../storage/event-store.ts";
import type { CommitFilesOptions, FileChange, RepositoryFiles } from "../storage/repository-files.ts";
import { LEASE_TTL_MS, type FlushLease, type FlushState } from "../spool/flush-lease.ts";
import { WritePacer } from "../spool/write-pacer.ts";

/** How often a writer looks for the flusher's lease to come free. */
const LEASE_POLL_MS = 200;
/** A long job renews the lease well within its time to live. */
const RENEW_EVERY_MS = LEASE_TTL_MS / 3;

/** What a commit beside the flusher needs: the files, and the flusher's lease and write pace (none without a spool). */
export interface LeasedFiles {
  files: RepositoryFiles;
  clock: Clock;
  lease: FlushLease | undefined;
  limits: WriteLimits;
}

/** A job's commit, paced by the flusher's shared write log: one turn of the pace, its other requests counted at once. */
export type PacedCommit = (
  changes: readonly FileChange[],
  message: string,
  options: Omit<CommitFilesOptions, "beforeWrite">,
) => Promise<string | undefined>;

/** Counts a request that belongs to a write already paced (a history squash after the commit) against the same limits. */
export type RecordWrite = () => Promise<void>;

/** Renews the lease at once: throws LeaseLostError when another flusher has taken it (then nothing may be forced). */
export type CheckLease = () => Promise<void>;

/**
 * Runs `work` holding the flusher's lease (looked for until `leaseBy`, renewed while it runs), so
 * that a job beside the flusher (the hourly rollups, retention, an erasure) never races a flush;
 * `work` commits through `commit`, within the flusher's write pace, so that GitHub's limits are
 * never spent twice. Gives what `work` gave, or `busy` when a flush held the lease throughout.
 * Without a spool (no lease), `work` runs at once and commits unpaced.
 */
export async function commitUnderLease<T>(
  { files, clock, lease, limits }: LeasedFiles,
  leaseBy: number,
  work: (commit: PacedCommit, record: RecordWrite, check: CheckLease) => Promise<T>,
): Promise<T | "busy"> {
  if (!lease) {
    return work(
      async (changes, message, options) => (await files.commitFiles(changes, message, options)).commit,
      async () => {},
      async () => {},
    );
  }
  let state: FlushState | undefined;
  while (!(state = await lease.acquire())) {
    if (clock.now() + LEASE_POLL_MS > leaseBy) return "busy";
    await clock.sleep(LEASE_POLL_MS);
  }
  const pacer = new WritePacer(state.writes, limits, clock);
  let held: FlushState = state;
  // One renewal at a time: two on the same etag would make the second look like a lost lease.
  let renewal: Promise<void> = Promise.resolve();
  const renew = (): Promise<void> => {
    renewal = renewal.catch(() => {}).then(() => lease.renew({ ...held, writes: pacer.writes() }));
    return renewal;
  };
  const renewing = setInterval(() => {
    renew().catch((error: unknown) => log("warn", "flush_lease_not_renewed", { message: messageOf(error) }));
  }, RENEW_EVERY_MS).unref();
  try {
    return await work(
      async (changes, message, options) => {
        if (held.blocked_until > clock.now()) {
          throw new StoreUnavailableError("GitHub's rate limit is in force", 0, { reason: "rate_limited" });
        }
        let first = true;
        try {
          const result = await files.commitFiles(changes, message, {
            ...options,
            beforeWrite: async () => {
              if (first) await pacer.wait(options.deadline);
              else pacer.record();
              first = false;
            },
          });
          return result.commit;
        } catch (error) {
          if (
            error instanceof StoreUnavailableError &&
            error.reason === "rate_limited" &&
            error.retryAfterSeconds > 0
          ) {
            held = { ...held, blocked_until: clock.now() + error.retryAfterSeconds * 1000 };
          }
          throw error;
        }
      },
      async () => pacer.record(),
      renew,
    );
  } finally {
    clearInterval(renewing);
    await renewal.catch(() => {});
    await lease
      .release({ ...held, writes: pacer.writes() })
      .catch((error: unknown) => log("warn", "flush_lease_not_released", { message: messageOf(error) }));
  }
}
