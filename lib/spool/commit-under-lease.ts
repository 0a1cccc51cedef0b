import type { Clock } from "../clock.ts";
import type { WriteLimits } from "../config.ts";
import { log, messageOf } from "../log.ts";
import { StoreUnavailableError } from "../storage/event-store.ts";
import type { FileChange, RepositoryFiles } from "../storage/repository-files.ts";
import type { FlushLease, FlushState } from "./flush-lease.ts";
import { WritePacer } from "./write-pacer.ts";

/** How often a writer looks for the flusher's lease to come free. */
const LEASE_POLL_MS = 200;

/** What a commit beside the flusher needs: the files, and the flusher's lease and write pace (none without a spool). */
export interface LeasedFiles {
  files: RepositoryFiles;
  clock: Clock;
  lease: FlushLease | undefined;
  limits: WriteLimits;
}

/**
 * Commits `changes` in one commit holding the flusher's lease (looked for until `leaseBy`), within
 * its shared write pace: so that a job beside the flusher (the hourly rollups, retention, an
 * erasure) never races a flush nor spends GitHub's limits twice. One turn of the pace is taken
 * for the commit, and each of its other requests counts against the same limits. Gives the new
 * commit (undefined when nothing changed), or why there was none: `busy` (a flush held the lease
 * throughout) or `paced` (the pace or a rate limit allows no write before the deadline).
 */
export async function commitUnderLease(
  { files, clock, lease, limits }: LeasedFiles,
  changes: readonly FileChange[],
  message: string,
  { deadline, leaseBy }: { deadline: number; leaseBy: number },
): Promise<string | undefined | "busy" | "paced"> {
  if (!lease) return (await files.commitFiles(changes, message, { deadline })).commit;
  let state: FlushState | undefined;
  while (!(state = await lease.acquire())) {
    if (clock.now() + LEASE_POLL_MS > leaseBy) return "busy";
    await clock.sleep(LEASE_POLL_MS);
  }
  const pacer = new WritePacer(state.writes, limits, clock);
  let after = state;
  try {
    if (state.blocked_until > clock.now()) return "paced";
    let first = true;
    const result = await files.commitFiles(changes, message, {
      deadline,
      beforeWrite: async () => {
        if (first) await pacer.wait(deadline);
        else pacer.record();
        first = false;
      },
    });
    return result.commit;
  } catch (error) {
    if (error instanceof StoreUnavailableError && (error.reason === "paced" || error.reason === "rate_limited")) {
      if (error.reason === "rate_limited") {
        after = { ...state, blocked_until: clock.now() + error.retryAfterSeconds * 1000 };
      }
      return "paced";
    }
    throw error;
  } finally {
    await lease
      .release({ ...after, writes: pacer.writes() })
      .catch((error: unknown) => log("warn", "flush_lease_not_released", { message: messageOf(error) }));
  }
}
