/** Waiting for a scenario's spool to drain. */
import { HOUR, type Scenario } from "./scenarios.ts";
import type { Bench } from "./set-up.ts";

const DRAIN_LIMIT_MS = 3 * HOUR;

/**
 * Waits, from the last send, until the spool is empty and no flush holds the lease, at most
 * DRAIN_LIMIT_MS; returns how long that took in simulated ms (none for the seeds' pattern: no spool).
 */
export async function drainSpool(scenario: Scenario, { clock, service }: Bench): Promise<number> {
  const sendEnd = clock.now();
  if (service.mode === "spool") {
    const { spool, lease } = service.runtime.spool!;
    while (clock.now() - sendEnd < DRAIN_LIMIT_MS) {
      const [waiting, state] = await Promise.all([spool.oldest(1), lease.read()]);
      if (waiting.length === 0 && state.holder === null) break;
      // Listing the spool costs the Blobs server: look every simulated second, but at most four times a wall second.
      await clock.sleep(Math.max(1000, 250 * scenario.scale));
    }
  }
  return clock.now() - sendEnd;
}
