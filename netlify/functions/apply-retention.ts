import type { Config } from "@netlify/functions";
import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { jobEndpoints } from "../../lib/http/endpoints/job-endpoints.ts";

/** Every day: the raw files past TELEMETRY_RETENTION_DAYS removed in one commit (rollups stay). */
export default netlifyFunction(jobEndpoints.retention.scheduled);

export const config: Config = { schedule: "@daily" };
