import type { Config } from "@netlify/functions";
import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { jobEndpoints } from "../../lib/http/endpoints/job-endpoints.ts";

/**
 * The safety net: drains what ingestion-triggered flushes left (after a crash, a rate limit, the
 * pace). Every minute, so that what a crash left with no request after it waits a minute at most;
 * a minute with nothing waiting costs a few Blobs listings, no lease and no write.
 */
export default netlifyFunction(jobEndpoints.flush.scheduled);

export const config: Config = { schedule: "* * * * *" };
