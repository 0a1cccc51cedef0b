/** The function that runs a flush after answering; a request to it returns at once. */
export const FLUSH_FUNCTION_PATH = "/.netlify/functions/flush";
/** The background function that does the waiting erasures; it too answers 202 at once. */
export const ERASE_FUNCTION_PATH = "/.netlify/functions/erase-background";
/** The flush function answers 202 at once: a call that takes longer has failed. */
const CALL_TIMEOUT_MS = 1000;

/** Starts a flush by calling the flush function at `url`, with the shared secret when there is one. */
export async function callFlush(url: string | URL, secret: string | undefined): Promise<void> {
  const answer = await fetch(url, {
    method: "POST",
    headers: secret ? { "x-telemetry-key": secret } : {},
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  await answer.body?.cancel();
}
