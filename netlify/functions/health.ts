import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { reportHealth } from "../../lib/http/endpoints/report-health.ts";

/** GET /api/v1/health: whether the pipeline works. */
export default netlifyFunction((request, { runtime }) => reportHealth(request, runtime));
