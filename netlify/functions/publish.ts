import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { dashboardJobs } from "../../lib/lifecycle/dashboard-jobs.ts";
import { jobEndpoints } from "../../lib/http/endpoints/job-endpoints.ts";

/**
 * The hourly job on demand (`telemetry publish`; a scheduled function cannot be called by URL once
 * deployed): for a caller with the flush key, or anyone under `netlify dev` with the local store,
 * which has no key and nothing to guard.
 */
export default netlifyFunction(jobEndpoints.publish.called, dashboardJobs);
