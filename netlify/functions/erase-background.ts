import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { dashboardJobs } from "../../lib/lifecycle/dashboard-jobs.ts";
import { jobEndpoints } from "../../lib/http/endpoints/job-endpoints.ts";

/** A background function (15 minutes): does every waiting erasure, for a caller with the flush key. */
export default netlifyFunction(jobEndpoints.erasure.called, dashboardJobs);
