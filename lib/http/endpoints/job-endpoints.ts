import { jobPaths } from "../../config.ts";
import { PUBLISH_CALLED_BUDGET_MS, PUBLISH_SCHEDULED_BUDGET_MS } from "../../insights/publish-insights.ts";
import { RETENTION_BUDGET_MS, RETENTION_CALLED_BUDGET_MS } from "../../lifecycle/apply-retention.ts";
import { ERASURE_BUDGET_MS } from "../../lifecycle/erase-installs.ts";
import { SCHEDULED_FLUSH_BUDGET_MS, WOKEN_FLUSH_BUDGET_MS } from "../../spool/flusher.ts";
import {
  defineEndpoint,
  type Endpoint,
  type EndpointContext,
  type Invocation,
  type ReadyRuntime,
} from "../define-endpoint.ts";
import { jsonResponse } from "../json-response.ts";

type JobContext = EndpointContext & { invocation: Invocation };
/** The fields of a job's answer, after `"status":"ok"`: its report, by the job's name. */
type Fields = Record<string, unknown>;

interface Job {
  /** A run on the schedule (a scheduled function takes no caller once deployed). */
  scheduled(runtime: ReadyRuntime, request: Request): Promise<Fields>;
  /** A run a caller asks for (POST). */
  called(runtime: ReadyRuntime, request: Request): Promise<Fields>;
  /** Who may call it (see Caller). */
  caller: "job" | "flush";
  /** The one path the called function answers on (see jobPaths). */
  path: string;
  /** The called run goes on after the answer, 202 at once (the flush function). */
  background?: boolean;
}

/** A job's scheduled and called functions: the same runtime check, answer and report, two ways in. */
function serveJob(job: Job): { scheduled: Endpoint<JobContext>; called: Endpoint<JobContext> } {
  return {
    scheduled: defineEndpoint<JobContext>({
      caller: "anyone",
      handle: async (request, runtime) =>
        jsonResponse(200, { status: "ok", ...(await job.scheduled(runtime, request)) }),
    }),
    called: defineEndpoint<JobContext>({
      path: { matches: (pathname) => pathname === job.path, elsewhere: `Start this job with POST ${job.path}` },
      methods: ["POST"],
      caller: job.caller,
      handle: async (request, runtime, { invocation }) => {
        if (!job.background) return jsonResponse(200, { status: "ok", ...(await job.called(runtime, request)) });
        invocation.waitUntil(job.called(runtime, request));
        return jsonResponse(202, { status: "accepted" });
      },
    }),
  };
}

/** A job that runs once within a budget, the scheduled one's or the called one's; its report under `name`. */
function budgeted(
  name: string,
  run: (runtime: ReadyRuntime, budgetMs: number) => Promise<unknown>,
  { path, scheduledMs, calledMs }: { path: string; scheduledMs: number; calledMs: number },
): Job {
  return {
    caller: "job",
    path,
    scheduled: async (runtime) => ({ [name]: (await run(runtime, scheduledMs)) ?? null }),
    called: async (runtime) => ({ [name]: (await run(runtime, calledMs)) ?? null }),
  };
}

/** The site's jobs, each served by a scheduled function and a function a caller (`telemetry`, ingestion) calls. */
export const jobEndpoints = {
  /** Every hour, and `telemetry publish`: rollups and dashboard in one commit. */
  publish: serveJob(
    budgeted("publish", (runtime, budgetMs) => runtime.publish(budgetMs), {
      path: jobPaths.publish,
      scheduledMs: PUBLISH_SCHEDULED_BUDGET_MS,
      calledMs: PUBLISH_CALLED_BUDGET_MS,
    }),
  ),
  /** Every day, and `telemetry retention`: the raw files past the period removed. */
  retention: serveJob(
    budgeted("retention", (runtime, budgetMs) => runtime.retain(budgetMs), {
      path: jobPaths.retention,
      scheduledMs: RETENTION_BUDGET_MS,
      calledMs: RETENTION_CALLED_BUDGET_MS,
    }),
  ),
  /**
   * The erasure: called (a background function of 15 minutes) by a request's wake-up, it does every
   * waiting request; every 10 minutes the schedule wakes it for any request left waiting.
   */
  erasure: serveJob({
    caller: "job",
    path: jobPaths.erase,
    scheduled: async (runtime, request) => {
      const jobs = runtime.erasure;
      const waiting = jobs ? await jobs.requests.waiting() : 0;
      if (jobs && waiting > 0) await jobs.start(request.url);
      return { waiting };
    },
    called: async (runtime) => ({ erasure: (await runtime.erasure?.run(ERASURE_BUDGET_MS)) ?? null }),
  }),
  /**
   * The flush: woken by ingestion, it answers 202 at once and flushes after the answer, waking
   * itself again when it stops with events waiting. Every minute the schedule drains what woken
   * flushes left (after a crash, a rate limit, the pace), handing over to woken flushes as they
   * do, so that what it leaves waits seconds, not another minute; it looks first, and takes no
   * lease when nothing waits. Then it forgets the ids past the window.
   */
  flush: serveJob({
    caller: "flush",
    path: jobPaths.flush,
    background: true,
    scheduled: async (runtime, request) => {
      const { spool } = runtime;
      const waiting = spool ? (await spool.spool.oldest(1)).length > 0 : false;
      const report = waiting
        ? await spool?.flush(SCHEDULED_FLUSH_BUDGET_MS, () => spool.startFlush(request.url))
        : undefined;
      await spool?.prune();
      return { flush: report ?? null };
    },
    called: async (runtime, request) => {
      const { spool } = runtime;
      await spool?.flush(WOKEN_FLUSH_BUDGET_MS, () => spool.startFlush(request.url));
      return {};
    },
  }),
};
