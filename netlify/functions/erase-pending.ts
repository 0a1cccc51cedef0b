import type { Config } from "@netlify/functions";
import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { dashboardJobs } from "../../lib/lifecycle/dashboard-jobs.ts";
import { jobEndpoints } from "../../lib/http/endpoints/job-endpoints.ts";

/** The safety net: starts the erasure job when requests wait (a wake-up lost, a run that failed). */
export default netlifyFunction(jobEndpoints.erasure.scheduled, dashboardJobs);

export const config: Config = { schedule: "*/10 * * * *" };
