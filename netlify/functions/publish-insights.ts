import type { Config } from "@netlify/functions";
import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { dashboardJobs } from "../../lib/lifecycle/dashboard-jobs.ts";
import { jobEndpoints } from "../../lib/http/endpoints/job-endpoints.ts";

/** Every hour: the rollups of the days that changed, and the dashboard, in one commit to the data repository. */
export default netlifyFunction(jobEndpoints.publish.scheduled, dashboardJobs);

export const config: Config = { schedule: "@hourly" };
