import type { PublishReport } from "./publish-insights.ts";

const PUBLISH_FUNCTION_PATH = "/.netlify/functions/publish";
/** A called run has 8 s of work and a synchronous function's 10 s: longer is a failure. */
const CALL_TIMEOUT_MS = 30_000;
/** Runs in a row while days are pending: a backlog of a year of days is read in a few dozen. */
const MAX_RUNS = 200;

/**
 * Calls the site's publish function (with the flush key, when the site has one) until no day is
 * pending or a run makes no progress; yields each run's report.
 */
export async function* callPublish(site: string, key: string | undefined): AsyncGenerator<PublishReport> {
  const url = new URL(PUBLISH_FUNCTION_PATH, site);
  for (let run = 0; run < MAX_RUNS; run += 1) {
    let answer: Response;
    try {
      answer = await fetch(url, {
        method: "POST",
        headers: key ? { "x-telemetry-key": key } : {},
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(`cannot reach ${url.origin} (is the site running? npm start serves it locally)`, {
        cause: error,
      });
    }
    const body = (await answer.json().catch(() => ({}))) as { publish?: PublishReport; message?: string };
    if (!answer.ok || !body.publish) {
      throw new Error(`${url.origin} answered ${answer.status}${body.message ? `: ${body.message}` : ""}`);
    }
    yield body.publish;
    const { outcome, pending, days } = body.publish;
    if (outcome !== "published" || pending === 0 || days.length === 0) return;
  }
}
