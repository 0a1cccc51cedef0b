import type { Config } from "@netlify/functions";
import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { jobEndpoints } from "../../lib/http/endpoints/job-endpoints.ts";

/**
 * The safety net: drains what ingestion-triggered flushes left (after a crash, a rate limit, the
 * pace). Ingestion wakes the flusher itself, so every ten minutes is enough: 4,320 runs a month.
 */
export default netlifyFunction(jobEndpoints.flush.scheduled);

export const config: Config = { schedule: "*/10 * * * *" };
