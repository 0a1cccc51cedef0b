import { addDays, daysFrom, startOfDay } from "../day.ts";

/** How a report's `days` are told: a row a day, an ISO week (from its Monday) or a calendar month. */
export const GRAINS = ["day", "week", "month"] as const;
export type Grain = (typeof GRAINS)[number];

/** Two months of days still read as days; a year of weeks (53 rows at most) as weeks; longer, months. */
const MOST_DAYS = 62;
const MOST_WEEK_DAYS = 366;

/** The grain a period is told at unless asked: rows enough to read, never thousands. */
export function grainOf(from: string, to: string): Grain {
  const days = daysFrom(from, to).length;
  return days <= MOST_DAYS ? "day" : days <= MOST_WEEK_DAYS ? "week" : "month";
}

/**
 * The days from `from` to `to` in rows of `grain`, oldest first, each keyed by its own first day (the
 * week's Monday, the month's first day, which may come before `from`) and holding only days of the period.
 */
export function groupDays(from: string, to: string, grain: Grain): { start: string; days: string[] }[] {
  const rows = new Map<string, string[]>();
  for (const day of daysFrom(from, to)) {
    const start = startOf(day, grain);
    rows.set(start, [...(rows.get(start) ?? []), day]);
  }
  return [...rows].map(([start, days]) => ({ start, days }));
}

function startOf(day: string, grain: Grain): string {
  if (grain === "day") return day;
  if (grain === "month") return `${day.slice(0, 7)}-01`;
  // getUTCDay counts from Sunday (0); an ISO week starts on Monday.
  return addDays(day, -((new Date(startOfDay(day)).getUTCDay() + 6) % 7));
}
