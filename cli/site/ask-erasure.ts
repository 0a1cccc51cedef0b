import type { Clock } from "../../lib/clock.ts";
import { erasureStatusSchema, type ErasureStatus } from "../../lib/lifecycle/erasure-requests.ts";
import { callSite } from "./call-site.ts";

const ERASURE_PATH = "/api/v1/erasure";
const CALL_TIMEOUT_MS = 10_000;
const POLL_MS = 2000;
/** The erasure job runs in a background function of 15 minutes at most. */
const WAIT_MS = 16 * 60 * 1000;

/**
 * Asks the site to erase an install (`POST /api/v1/erasure`, with the shared secret when the site
 * has one), as the install itself would, then follows the request until it is done (or the wait
 * is over); gives its last status.
 */
export async function askErasure(
  site: string,
  { hwid, secret, clock }: { hwid: string; secret: string | undefined; clock: Clock },
): Promise<ErasureStatus> {
  const headers = { "content-type": "application/json", ...(secret ? { "x-telemetry-key": secret } : {}) };
  const accepted = await callSite(site, ERASURE_PATH, {
    method: "POST",
    headers,
    body: JSON.stringify({ hwid }),
    timeoutMs: CALL_TIMEOUT_MS,
  });
  const { request_id: id } = accepted as { request_id: string };
  const until = clock.now() + WAIT_MS;
  for (;;) {
    const status = erasureStatusSchema.parse(
      await callSite(site, `${ERASURE_PATH}/${id}`, { headers, timeoutMs: CALL_TIMEOUT_MS }),
    );
    if (status.status === "done" || clock.now() > until) return status;
    await clock.sleep(POLL_MS);
  }
}
