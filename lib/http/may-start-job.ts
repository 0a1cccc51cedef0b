import type { Runtime } from "../runtime.ts";
import { checkSecret } from "./check-secret.ts";

/**
 * Whether a request may start one of the jobs (publish, retention) on demand: it carries the flush
 * key; under `netlify dev` with the local store, which has no key and nothing to guard, any may.
 */
export function mayStartJob(request: Request, runtime: Runtime & { ok: true }): boolean {
  if (runtime.flushKey === undefined) return runtime.netlifyDev;
  return checkSecret(request, runtime.flushKey);
}
