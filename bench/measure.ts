/** A scenario's figures from GitHub's side, read off the simulator once the spool has drained. */
import { storedEventSchema } from "../lib/events/stored-event.ts";
import { HOUR, MINUTE, type Scenario } from "./scenarios.ts";
import type { Bench } from "./set-up.ts";

/** What GitHub ended up holding, and what it was asked. */
export interface Figures {
  stored: number;
  lost: number;
  duplicated: number;
  commits: number;
  requests: number;
  uploadedBytes: number;
  maxWritesPerMinute: number;
  maxWritesPerHour: number;
  limitRefusals: number;
  injectedWindowRefusals: number;
  /** Events set aside in the spool's quarantine (push protection refused them). */
  setAside: number;
  /** Flush invocations (woken, handed over, scheduled) while the token was revoked. */
  revokedInvocations: number | undefined;
}

/** Counts each event's copies in the simulated repository (by its seq), and GitHub's writes and refusals. */
export async function measure(scenario: Scenario, { github, start, service }: Bench): Promise<Figures> {
  const spool = service.mode === "spool" ? service : undefined;
  const setAside = spool ? (await spool.runtime.spool!.lease.read()).quarantined : 0;
  const revoked = scenario.revokedWindow;
  const copies = new Map<number, number>();
  for (const path of github.paths()) {
    for (const line of (github.file(path) ?? "").split("\n").filter(Boolean)) {
      const seq = (storedEventSchema.parse(JSON.parse(line)).metadata as { seq: number }).seq;
      copies.set(seq, (copies.get(seq) ?? 0) + 1);
    }
  }
  const writes = github.answers
    .filter((answer) => answer.method === "PUT" && answer.status < 300)
    .map((answer) => answer.at);
  const refusals = github.answers.filter((answer) => answer.status === 403 || answer.status === 429);
  const inWindow = (at: number) =>
    scenario.limitWindow !== undefined &&
    at >= start + scenario.limitWindow[0] &&
    at <= start + scenario.limitWindow[0] + scenario.limitWindow[1] + 1000;
  return {
    stored: copies.size,
    lost: scenario.events - copies.size - setAside,
    setAside,
    revokedInvocations:
      spool && revoked
        ? spool.invocations.filter((at) => at >= start + revoked[0] && at < start + revoked[0] + revoked[1]).length
        : undefined,
    duplicated: [...copies.values()].filter((count) => count > 1).length,
    commits: writes.length,
    requests: github.answers.length,
    uploadedBytes: github.answers.reduce((total, answer) => total + answer.bytes, 0),
    maxWritesPerMinute: maxInWindow(writes, MINUTE),
    maxWritesPerHour: maxInWindow(writes, HOUR),
    limitRefusals: refusals.length,
    injectedWindowRefusals: refusals.filter((answer) => inWindow(answer.at)).length,
  };
}

/** The most of `times` within any `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let end = 0, begin = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[begin]! >= windowMs) begin += 1;
    max = Math.max(max, end - begin + 1);
  }
  return max;
}
