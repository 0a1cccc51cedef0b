import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { reportFigures } from "../lib/insights/report-figures.ts";
import { EventTally } from "../lib/tally/event-tally.ts";

const DAY = "2026-12-01";

function tallyOf(metadata: Record<string, unknown>[]): EventTally {
  const tally = new EventTally();
  metadata.forEach((m, i) =>
    tally.add({
      event_id: `10000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
      created_at: `${DAY}T09:00:00.000Z`,
      ip: null,
      hwid: `install-${i}`,
      event_name: "query.executed",
      app_version: "1.2.0",
      client_type: "vector-inspector",
      metadata: m,
    } satisfies StoredEvent),
  );
  return tally;
}

/** The figures whose values differ between two tallies of the day, by name. */
function differing(left: EventTally, right: EventTally): string[] {
  const [a, b] = [reportFigures(DAY, left), reportFigures(DAY, right)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((key) => a.get(key) !== b.get(key));
}

describe("a day's figures as --verify names them", () => {
  const both = [
    { duration_ms: 120, latency_ms: 40 },
    { duration_ms: 180, latency_ms: 60 },
  ];

  it("names an event's duration and latency rows apart", () => {
    const figures = reportFigures(DAY, tallyOf(both));
    expect(figures.get("performance[query.executed,duration_ms].count")).toBe(2);
    expect(figures.get("performance[query.executed,latency_ms].count")).toBe(2);
  });

  it("shows a disagreement in either row, the other agreeing", () => {
    const shorter = tallyOf([{ ...both[0]!, duration_ms: 10 }, both[1]!]);
    expect(differing(tallyOf(both), shorter)).toContain("performance[query.executed,duration_ms].p50");
    expect(differing(tallyOf(both), shorter).some((key) => key.includes("latency_ms"))).toBe(false);
    const faster = tallyOf([{ ...both[0]!, latency_ms: 5 }, both[1]!]);
    expect(differing(tallyOf(both), faster)).toContain("performance[query.executed,latency_ms].p50");
  });

  it("names an installs figure by its list item", () => {
    const more = tallyOf([...both, { duration_ms: 150 }]);
    expect(differing(tallyOf(both), more)).toContain("events[query.executed].installs");
  });
});
