import { DAY_MS, startOfDay } from "../../day.ts";

/** Late events (a spool drained after midnight) still land in a day this long after it ended: only then is it closed. */
const CLOSE_AFTER_MS = 2 * 60 * 60 * 1000;

/** Whether no more events can land in `day` (it ended long enough ago): its last line then needs no newline. */
export function isClosed(day: string, now: number): boolean {
  return now >= startOfDay(day) + DAY_MS + CLOSE_AFTER_MS;
}
