import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { jobEndpoints } from "../../lib/http/endpoints/job-endpoints.ts";

/**
 * Woken by ingestion: answers 202 at once and flushes the spool after the answer; when it stops
 * with events waiting, wakes itself again. Only a caller with the flush key (ingestion, a previous
 * flush) may start one; without a key (the local store) no caller may.
 */
export default netlifyFunction(jobEndpoints.flush.called);
