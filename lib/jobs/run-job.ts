import type { HistoryMode } from "../config.ts";
import { log, messageOf } from "../log.ts";
import { StoreUnavailableError } from "../storage/event-store.ts";
import type { FileChange } from "../storage/repository-files.ts";
import { commitUnderLease, type LeasedFiles } from "./commit-under-lease.ts";
import { squashBranch } from "./squash-branch.ts";

/** How a run ends when it could not do its work: the lease, the pace, or an error. */
type Stopped = "busy" | "paced" | "failed";

/** What every job's report holds beside its own figures. */
export interface JobReport {
  outcome: string;
  error: string | null;
}

/** What a job's commit made, and (TELEMETRY_HISTORY=squash) what the squash after it did. */
export interface JobCommitted {
  /** The commit made; null when nothing changed. */
  commit: string | null;
  /**
   * The root commit the branch is at once its history was squashed after this commit (a squash
   * always ends with the branch at one commit holding everything on it, this commit included).
   * Null when no squash was made: the history is kept, nothing changed (and `squash` was not
   * `"always"`), or the squash failed (see `squash_error`).
   */
  squashed: string | null;
  /**
   * Why the squash that was due was not made, the commit standing (the branch no longer held it, a
   * lost lease, GitHub busy or refusing): the history still holds what earlier commits did, and the
   * next run must squash. Null when a due squash was made, or none was due.
   */
  squash_error: string | null;
}

export interface JobCommitOptions {
  /** Commit only on top of this commit (see CommitFilesOptions.expectedHead). */
  expectedHead?: string;
  /**
   * "always": with TELEMETRY_HISTORY=squash, squash the history even when these changes make no
   * commit (an earlier run's commit whose squash failed); by default only after a commit.
   */
  squash?: "always";
}

export type JobCommit = (
  changes: readonly FileChange[],
  message: string,
  options?: JobCommitOptions,
) => Promise<JobCommitted>;

/** What a run works with: its deadline, its report so far, and its commit under the flusher's lease. */
export interface JobRun<R extends JobReport> {
  /** When the run started, and its start plus its budget (epoch ms). */
  started: number;
  deadline: number;
  /** Adds what the run has found to its report: a run stopped short (busy, paced, failed) reports it too. */
  note: (fields: Partial<R>) => void;
  /**
   * Runs `work` holding the flusher's lease, looked for until the commit's reserve: `work` commits
   * through `commit`, within the flusher's write pace (with TELEMETRY_HISTORY=squash, the history
   * squashed after it). A flush that holds the lease throughout stops the run `busy`; a pace or a
   * rate limit that allows no write before the deadline, `paced`.
   */
  underLease: <T>(work: (commit: JobCommit) => Promise<T>) => Promise<T>;
}

export interface JobSpec<R extends JobReport> {
  /** The log line every run ends with. */
  event: string;
  budgetMs: number;
  /** The lease is looked for until this long before the deadline: what the commit keeps for itself. */
  commitReserveMs: number;
  /** The report of a run that found nothing yet; a `duration_ms` in it is set to the run's. */
  report: Omit<R, "outcome" | "error">;
  /** What the log line shows of a report; all of it unless given. */
  logged?(report: R): Record<string, unknown>;
  /** squash: after the commit, the history is replaced by one commit of the tree (see squashBranch). */
  history?: HistoryMode;
  run(job: JobRun<R>): Promise<Partial<R> & Pick<R, "outcome">>;
  /**
   * A last step once the run has ended, whatever its outcome (the hourly job's alerts), told the
   * report so far: its fields join the report before it is logged. It must not throw.
   */
  after?(report: R, deadline: number): Promise<Partial<R>>;
}

/** The run stopped before its commit: the lease or the pace. */
class JobStopped extends Error {
  override name = "JobStopped";
  constructor(readonly outcome: "busy" | "paced") {
    super(outcome);
  }
}

/**
 * One job shape, for the jobs that commit beside the flusher (the hourly rollups, retention, an
 * erasure): a budget, a run that notes what it finds and commits once under the flusher's lease,
 * and a report that says how it ended (the run's outcome, or busy, paced, failed with its error),
 * logged once. A job never throws: what fails is in the report, and the next run goes on.
 */
export async function runJob<R extends JobReport>(deps: LeasedFiles, spec: JobSpec<R>): Promise<R> {
  const { clock, files } = deps;
  const started = clock.now();
  const deadline = started + spec.budgetMs;
  let fields = { ...spec.report } as Partial<R>;
  const end = async (outcome: R["outcome"] | Stopped, error: string | null = null): Promise<R> => {
    let report = { outcome, ...fields, error } as R;
    if (spec.after) report = { ...report, ...(await spec.after(report, deadline)) };
    if ("duration_ms" in report) Object.assign(report, { duration_ms: clock.now() - started });
    log(error ? "warn" : "info", spec.event, spec.logged?.(report) ?? ({ ...report } as Record<string, unknown>));
    return report;
  };
  const job: JobRun<R> = {
    started,
    deadline,
    note: (more) => {
      fields = { ...fields, ...more };
    },
    underLease: async (work) => {
      const done = await commitUnderLease(deps, deadline - spec.commitReserveMs, (commit, record, check) =>
        work(async (changes, message, { expectedHead, squash } = {}) => {
          const sha = await commit(changes, message, { deadline, ...(expectedHead ? { expectedHead } : {}) });
          const committed = { commit: sha ?? null, squashed: null, squash_error: null };
          if (spec.history !== "squash" || (sha === undefined && squash !== "always")) return committed;
          try {
            const squashed = await squashBranch(files, sha, deadline, { record, check });
            return { ...committed, squashed: squashed ?? null };
          } catch (error) {
            // The commit stands; only the squash is left for the next run.
            log("warn", "history_not_squashed", { event: spec.event, commit: sha ?? null, message: messageOf(error) });
            return { ...committed, squash_error: messageOf(error) };
          }
        }),
      ).catch((error: unknown) => {
        if (error instanceof StoreUnavailableError && (error.reason === "paced" || error.reason === "rate_limited")) {
          throw new JobStopped("paced");
        }
        throw error;
      });
      if (done === "busy") throw new JobStopped("busy");
      return done;
    },
  };
  let outcome: R["outcome"] | Stopped;
  let failure: string | null = null;
  try {
    const { outcome: ran, ...found } = await spec.run(job);
    job.note(found as Partial<R>);
    outcome = ran;
  } catch (error) {
    outcome = error instanceof JobStopped ? error.outcome : "failed";
    if (!(error instanceof JobStopped)) failure = messageOf(error);
  }
  return end(outcome, failure);
}
