const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60_000;
const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3600;
const MINUTES_PER_HOUR = 60;

/** A duration as a person says it: 350 ms, 1.2 s, 25m 45s, 2h 5m. */
export function duration(ms: number): string {
  // Each unit is chosen after rounding to it, so that 999.6 ms is 1.0 s, never 1000 ms, nor 59.6 s 60 s.
  const tenthsOfMs = Number(ms.toFixed(1));
  if (tenthsOfMs < 10) return `${tenthsOfMs} ms`;
  if (Math.round(ms) < MS_PER_SECOND) return `${Math.round(ms)} ms`;
  const tenthsOfSecond = Math.round(ms / 100) / 10;
  if (tenthsOfSecond < 10) return `${tenthsOfSecond.toFixed(1)} s`;
  const seconds = Math.round(ms / MS_PER_SECOND);
  if (seconds < SECONDS_PER_MINUTE) return `${seconds} s`;
  if (seconds < SECONDS_PER_HOUR)
    return `${Math.floor(seconds / SECONDS_PER_MINUTE)}m ${seconds % SECONDS_PER_MINUTE}s`;
  const minutes = Math.round(ms / MS_PER_MINUTE);
  return `${Math.floor(minutes / MINUTES_PER_HOUR)}h ${minutes % MINUTES_PER_HOUR}m`;
}
