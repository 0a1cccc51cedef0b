import { z } from "zod";
import { addDays, daysFrom } from "../day.ts";
import { ExploreError } from "./explore-error.ts";

/** The periods the picker offers, in days up to today; from–to spans any other. */
const PERIOD_CHOICES = ["7", "30", "90"] as const;
const DEFAULT_DAYS = "30";
/** A longer span would hold a year of raw lines in memory for a filter. */
const MAX_SPAN_DAYS = 400;
const PAGE_SIZE = 20;
/** "all" (or nothing) is no filter. */
const ALL = "all";

const filterValue = z
  .string()
  .max(200)
  .optional()
  .transform((value) => (value === undefined || value === "" || value === ALL ? undefined : value));

const paramsSchema = z.strictObject({
  days: z.enum(PERIOD_CHOICES).optional(),
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
  version: filterValue,
  os: filterValue.describe('An OS family ("Linux"), or a family and its version ("Windows 11")'),
  client_type: filterValue,
  event: filterValue,
  fingerprint: z
    .string()
    .regex(/^[\w.:-]{1,128}$/)
    .optional(),
  key: z.string().min(1).max(200).optional(),
  page: z.coerce.number().int().min(0).max(100_000).default(0),
});

/** The filters of a view: each a value a line must have, all of them at once. */
export interface LineFilter {
  version?: string;
  os?: { family: string; version?: string };
  client_type?: string;
  event?: string;
}

export interface ExploreQuery {
  from: string;
  to: string;
  filter: LineFilter;
  /** An error group, for its samples. */
  fingerprint?: string;
  /** A metadata key, for an event's breakdown. */
  key?: string;
  page: number;
  pageSize: number;
}

/**
 * A page's question as its URL's parameters ask it: a period (`days` up to `today`, or `from` and `to`),
 * filters, and what a drill-down names. Anything else, or a value of the wrong shape, is a 400 naming it.
 */
export function exploreQuery(params: URLSearchParams, today: string): ExploreQuery {
  const parsed = paramsSchema.safeParse(Object.fromEntries(params));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const names = issue.code === "unrecognized_keys" ? issue.keys : issue.path.map(String);
    throw new ExploreError(400, `bad parameter ${names.join(", ")}: ${issue.message}`);
  }
  const { days, from, to, version, os, client_type, event, fingerprint, key, page } = parsed.data;
  if ((from === undefined) !== (to === undefined)) throw new ExploreError(400, "from and to go together");
  if (days !== undefined && from !== undefined)
    throw new ExploreError(400, "ask for days or for from and to, not both");
  const end = to ?? today;
  const start = from ?? addDays(end, -(Number(days ?? DEFAULT_DAYS) - 1));
  if (start > end) throw new ExploreError(400, `from ${start} is after to ${end}`);
  if (daysFrom(start, end).length > MAX_SPAN_DAYS)
    throw new ExploreError(400, `a period is at most ${MAX_SPAN_DAYS} days`);
  const filter: LineFilter = {
    ...(version && { version }),
    ...(os && { os: osFilter(os) }),
    ...(client_type && { client_type }),
    ...(event && { event }),
  };
  return {
    from: start,
    to: end,
    filter,
    ...(fingerprint && { fingerprint }),
    ...(key && { key }),
    page,
    pageSize: PAGE_SIZE,
  };
}

/** "Windows 11" → Windows, version 11; "Linux" → every Linux. */
function osFilter(value: string): NonNullable<LineFilter["os"]> {
  const space = value.indexOf(" ");
  return space < 0 ? { family: value } : { family: value.slice(0, space), version: value.slice(space + 1) };
}
