import type { Clock } from "../lib/clock.ts";

/** A clock `scale` times faster than the wall clock, starting at `start` (epoch ms): a simulated hour passes in 3600/scale seconds. */
export function scaledClock(scale: number, start = Date.now()): Clock & { scale: number } {
  const realStart = performance.now();
  return {
    scale,
    now: () => Math.round(start + (performance.now() - realStart) * scale),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms / scale))),
    timeout: (ms) => AbortSignal.timeout(Math.max(1, Math.ceil(ms / scale))),
  };
}
