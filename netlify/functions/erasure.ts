import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { dashboardJobs } from "../../lib/lifecycle/dashboard-jobs.ts";
import { requestErasure } from "../../lib/http/endpoints/request-erasure.ts";

/** POST /api/v1/erasure and GET /api/v1/erasure/{id}: an install asks for its data to be erased, and how it stands. */
export default netlifyFunction(requestErasure, dashboardJobs);
