import { describe, expect, it } from "vitest";
import type { PublishReport } from "../lib/insights/publish-insights.ts";
import { runLine } from "../cli/site/run-line.ts";

function published(...days: string[]): PublishReport {
  return {
    outcome: "published",
    days: days.map((day) => ({ day, bytes_read: 1, files_read: 1, caught_up: true, malformed: 0 })),
    pending: 0,
    commit: "a1b2c3d4e5f6",
    files_written: days.length,
    duration_ms: 1,
    error: null,
  };
}

describe("a run's line", () => {
  it("spans the earliest day to the latest, in whatever order the run did them", () => {
    // Today and yesterday first, then the backlog oldest first, as publish does them.
    const line = runLine(published("2026-11-30", "2026-11-29", "2026-10-01", "2026-10-02", "2026-10-03"));
    expect(line).toContain("5 day(s) (2026-10-01 to 2026-11-30)");
  });

  it("names a few days that do not follow one another", () => {
    expect(runLine(published("2026-11-30", "2026-11-29", "2026-10-01"))).toContain(
      "3 day(s) (2026-10-01, 2026-11-29, 2026-11-30)",
    );
  });

  it("spans days that follow one another", () => {
    expect(runLine(published("2026-11-30", "2026-11-29", "2026-11-28"))).toContain(
      "3 day(s) (2026-11-28 to 2026-11-30)",
    );
    expect(runLine(published("2026-11-30"))).toContain("1 day(s) (2026-11-30)");
  });

  it("ends with what the alerts did, or why they could not", () => {
    const alerts = {
      outcome: "checked",
      opened: 1,
      reopened: 0,
      commented: 0,
      closed: 2,
      waiting: 0,
      message: null,
    } as const;
    expect(runLine({ ...published("2026-11-30"), alerts })).toMatch(/, 0 pending, alerts: 1 opened, 2 closed$/);
    expect(runLine({ ...published("2026-11-30"), alerts: { ...alerts, opened: 0, closed: 0 } })).toMatch(/0 pending$/);
    const refused = { ...alerts, outcome: "not_permitted", opened: 0, closed: 0, message: "no issues: write" } as const;
    expect(runLine({ ...published("2026-11-30"), alerts: refused })).toMatch(
      /, alerts not_permitted: no issues: write$/,
    );
    // Judged, but some changes left for the next run: the line says why.
    const cut = { ...alerts, closed: 0, waiting: 3, message: "the pace leaves no room" } as const;
    expect(runLine({ ...published("2026-11-30"), alerts: cut })).toMatch(
      /, alerts: 1 opened, 3 waiting: the pace leaves no room$/,
    );
  });
});
