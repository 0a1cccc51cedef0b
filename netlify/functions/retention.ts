import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { jobEndpoints } from "../../lib/http/endpoints/job-endpoints.ts";

/** The daily retention on demand (`telemetry retention`), for a caller with the flush key, as the publish function. */
export default netlifyFunction(jobEndpoints.retention.called);
