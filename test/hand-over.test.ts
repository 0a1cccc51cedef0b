import { describe, expect, it } from "vitest";
import type { FlushOutcome } from "../lib/spool/flush-run.ts";
import { handOverDelay, type FlushReport } from "../lib/spool/flusher.ts";

const NOW = 1_000_000;
const LEAD = 4000;
const MAX_DELAY = 1500;

const report = (outcome: FlushOutcome, resumeIn = 0): FlushReport => ({
  outcome,
  resume_at: NOW + resumeIn,
  at: new Date(NOW).toISOString(),
  events: 0,
  commits: 0,
  files: 0,
  bytes: 0,
  duration_ms: 0,
  error: null,
});

describe("when a stopped flush hands over to the next", () => {
  it("does not hand over when nothing waits, or another flusher has the spool", () => {
    for (const outcome of ["idle", "busy", "lost"] as const)
      expect(handOverDelay(report(outcome), NOW, LEAD, MAX_DELAY)).toBeUndefined();
  });

  it("hands over at once when the next write is within the next run's lead", () => {
    expect(handOverDelay(report("paced", 0), NOW, LEAD, MAX_DELAY)).toBe(0);
    expect(handOverDelay(report("paced", LEAD), NOW, LEAD, MAX_DELAY)).toBe(0);
  });

  it("waits until the next run can reach the write, at most what is left of its own time", () => {
    expect(handOverDelay(report("paced", LEAD + 1000), NOW, LEAD, MAX_DELAY)).toBe(1000);
    expect(handOverDelay(report("blocked", LEAD + 30_000), NOW, LEAD, MAX_DELAY)).toBe(MAX_DELAY);
  });

  it("leaves a wait of more than a minute (the hour's budget spent, a long retry-after) to the schedule", () => {
    expect(handOverDelay(report("paced", LEAD + 60_000), NOW, LEAD, MAX_DELAY)).toBe(MAX_DELAY);
    expect(handOverDelay(report("paced", LEAD + 60_001), NOW, LEAD, MAX_DELAY)).toBeUndefined();
    expect(handOverDelay(report("blocked", LEAD + 600_000), NOW, LEAD, MAX_DELAY)).toBeUndefined();
  });

  it("after a failure (GitHub down), tries again after the longest wait", () => {
    expect(handOverDelay(report("failed"), NOW, LEAD, MAX_DELAY)).toBe(MAX_DELAY);
  });
});
