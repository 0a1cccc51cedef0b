import type { PublishReport } from "../../lib/insights/publish-insights.ts";
import type { RetentionReport } from "../../lib/lifecycle/apply-retention.ts";
import { jobPaths } from "../../lib/config.ts";
import { callSite } from "./call-site.ts";

/** A called run has 8 s of work and a synchronous function's 10 s: longer is a failure. */
const CALL_TIMEOUT_MS = 30_000;
/** Runs in a row while work is pending: a backlog of a year of days is read in a few dozen. */
const MAX_RUNS = 200;

/** The jobs a site runs on demand: its function, and whether a run's report says to call again. */
const JOBS = {
  publish: {
    path: jobPaths.publish,
    again: (run: PublishReport) => run.outcome === "published" && run.pending > 0 && run.days.length > 0,
  },
  retention: {
    path: jobPaths.retention,
    again: (run: RetentionReport | null) => run?.outcome === "removed" && run.pending > 0,
  },
};

type Reports = { publish: PublishReport; retention: RetentionReport | null };

/**
 * Calls one of the site's jobs (with the jobs' key, when the site has one) until it says nothing
 * is pending or a run makes no progress; yields each run's report.
 */
export async function* callJob<Job extends keyof typeof JOBS>(
  site: string,
  key: string | undefined,
  job: Job,
): AsyncGenerator<Reports[Job]> {
  for (let run = 0; run < MAX_RUNS; run += 1) {
    const body = await callSite(site, JOBS[job].path, {
      method: "POST",
      headers: key ? { "x-telemetry-key": key } : {},
      timeoutMs: CALL_TIMEOUT_MS,
      accepts: (answer) => job in answer,
    });
    const report = body[job] as Reports[Job];
    yield report;
    if (!(JOBS[job].again as (run: Reports[Job]) => boolean)(report)) return;
  }
}
