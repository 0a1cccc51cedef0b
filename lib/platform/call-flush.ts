/** The flush function answers 202 at once: a call that takes longer has failed. */
const CALL_TIMEOUT_MS = 1000;

/** Starts a job by calling its function at `url`, with the jobs' key when there is one. */
export async function callFlush(url: string | URL, secret: string | undefined): Promise<void> {
  const answer = await fetch(url, {
    method: "POST",
    headers: secret ? { "x-telemetry-key": secret } : {},
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  await answer.body?.cancel();
}
