import { HOUR_MS } from "./clock.ts";

/** A UTC calendar day, `YYYY-MM-DD`: how the layout, the rollups and the reports name a day. */
export type Day = string;

export const DAY_MS = 24 * HOUR_MS;

/** The UTC day an instant falls in. */
export function dayOf(at: number | Date): Day {
  return new Date(at).toISOString().slice(0, 10);
}

/** The day's first millisecond (UTC midnight); NaN for text that is no day. */
export function startOfDay(day: Day): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** The day `days` after `day` (before it, when negative). */
export function addDays(day: Day, days: number): Day {
  return dayOf(startOfDay(day) + days * DAY_MS);
}

/** Every day from `from` to `to`, inclusive. */
export function daysFrom(from: Day, to: Day): Day[] {
  const days: Day[] = [];
  for (let at = startOfDay(from); at <= startOfDay(to); at += DAY_MS) days.push(dayOf(at));
  return days;
}
