import { netlifyFunction } from "../../lib/http/define-endpoint.ts";
import { ingest } from "../../lib/http/endpoints/ingest.ts";

/**
 * POST /api/v1/telemetry: events in, kept in the spool, a flush woken. In the Request/Response form,
 * the one where Netlify tells a running function which deploy it serves (`context.deploy`).
 */
export default netlifyFunction((request, { runtime, invocation }) => {
  const spool = runtime.ok ? runtime.spool : undefined;
  return ingest(request, {
    runtime,
    platformIp: invocation.ip,
    // netlify dev's functions server inflates a compressed body before any function sees it.
    bodyDecoded: runtime.ok && runtime.netlifyDev,
    startFlush: spool && (() => spool.startFlush(request.url)),
  });
});
