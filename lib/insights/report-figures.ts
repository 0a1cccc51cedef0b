import { periodReport } from "../present/period-report.ts";
import type { EventTally } from "../tally/event-tally.ts";

/**
 * The fields that tell a list's items apart, as the report's tables key them (format-report): two
 * performance rows share an event and differ by field, two models may share a name.
 */
const IDENTIFYING = [
  "day",
  "event_name",
  "field",
  "app_version",
  "os",
  "version",
  "client_type",
  "country",
  "fingerprint",
  "model_name",
  "model_source",
  "db_provider",
];

/**
 * A day's figures as the report shows them, by where they sit: `totals.events`, `events[app.launch].count`,
 * `performance[query.executed,latency_ms].p95`: each its own name, so that no figure hides another.
 */
export function reportFigures(day: string, tally: EventTally): Map<string, unknown> {
  const figures = new Map<string, unknown>();
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}[${nameOf(item) ?? i}]`));
    else if (value !== null && typeof value === "object")
      for (const [key, inner] of Object.entries(value)) walk(inner, path === "" ? key : `${path}.${key}`);
    else figures.set(path, value);
  };
  walk(periodReport([{ day, tally }], day, day), "");
  return figures;
}

/** An item of a list is named by its identifying fields (an OS version of none is `unknown`). */
function nameOf(item: unknown): string | undefined {
  if (item === null || typeof item !== "object") return undefined;
  const fields = item as Record<string, string | null>;
  const names = IDENTIFYING.filter((key) => key in fields).map((key) => fields[key] ?? "unknown");
  return names.length > 0 ? names.join(",") : undefined;
}
