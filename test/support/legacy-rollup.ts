import type { StoredEvent } from "../../lib/events/stored-event.ts";
import { EventTally } from "../../lib/tally/event-tally.ts";
import { legacySketch } from "./legacy-sketch.ts";

/**
 * `installs` installs active on `day`, each sending the same events (a launch, a query, a model, an
 * error) from the same version and OS: every figure counts all of them, so that one sketch of them
 * stands for each figure's installs in a rollup of format 2 (legacyRollup).
 */
export function uniformDay(day: string, installs: number): StoredEvent[] {
  const events: StoredEvent[] = [];
  const emit = (hwid: string, event_name: string, metadata: Record<string, unknown>) =>
    events.push({
      event_id: `20000000-0000-4000-8000-${String(events.length).padStart(12, "0")}`,
      created_at: `${day}T08:00:00.000Z`,
      ip: null,
      hwid,
      event_name,
      app_version: "0.9.0",
      client_type: "vector-inspector",
      metadata,
    });
  for (let i = 0; i < installs; i += 1) {
    const hwid = `legacy-${day}-${i}`;
    emit(hwid, "app_launch", { os: "Linux-6.1" });
    emit(hwid, "query.executed", { latency_ms: 20, success: true, os: "Linux-6.1" });
    emit(hwid, "model_registration", { model_name: "bge-small-en", model_source: "sentence-transformers" });
    emit(hwid, "UncaughtException", { message: "boom", error_hash: "legacy-group", exception_type: "E" });
  }
  return events;
}

/**
 * The rollup (JSON text) an older release wrote for a uniformDay's events: format 2, each set of
 * installs a HyperLogLog sketch of them all (2^14 registers for the day's, 2^11 for the others),
 * error groups without a first version.
 */
export function legacyRollup(events: readonly StoredEvent[], day: string): string {
  const tally = new EventTally();
  for (const event of events) tally.add(event);
  const rollup = tally.toRollup({
    day,
    updated_at: `${day}T23:59:00.000Z`,
    complete: true,
    source: null,
    parts: [{ name: "0001.ndjson", bytes: 1, lines: events.length, prefix: "0123456789abcdef", blob: null }],
  });
  return asFormatTwo(rollup, new Set(events.map((event) => event.hwid)));
}

/** A rollup of this format as format 2 wrote it, each of its sets of installs a sketch of `hwids`. */
export function asFormatTwo(rollup: object, hwids: ReadonlySet<string>): string {
  const older = (value: unknown, top: boolean): unknown => {
    if (Array.isArray(value)) return value.map((item) => older(item, false));
    if (typeof value !== "object" || value === null) return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "first_version")
        .map(([key, field]) => [
          key,
          key === "installs" && typeof field === "string" ? legacySketch(hwids, top ? 14 : 11) : older(field, false),
        ]),
    );
  };
  return JSON.stringify({ ...(older(rollup, true) as object), version: 2 });
}
