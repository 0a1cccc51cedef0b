/** The benchmark's scenarios, each run with the spool and, where it says so, with the seeds' pattern. */

export const MINUTE = 60_000;
/** What an event carries to hold a secret, and the pattern the simulator's push protection refuses. */
export const SECRET_MARKER = "BENCH-SECRET-0123456789";
export const SECRET_PATTERN = /BENCH-SECRET-\d{10}/;
export const HOUR = 60 * MINUTE;

export interface Scenario {
  name: string;
  title: string;
  /** Simulated ms per wall-clock ms. */
  scale: number;
  events: number;
  /** Simulated ms over which the events arrive, evenly spread. */
  windowMs: number;
  clients: number;
  failureRate?: number;
  /** [start, length] in simulated ms from the scenario's start: every content write gets the secondary-limit 403. */
  limitWindow?: [number, number];
  /** [start, length] in simulated ms: GitHub answers every call 401 Bad credentials, as to a revoked token. */
  revokedWindow?: [number, number];
  /** One event in this many carries a secret GitHub's push protection refuses. */
  secretEvery?: number;
  /** Share of content writes GitHub applies only after the writer gave up on them (their outcome unknown to it). */
  lateWrites?: number;
  baseline?: boolean;
  /** Events a request (default 1, the real client): a batching client's. */
  batch?: number;
}

export const SCENARIOS: Scenario[] = [
  {
    name: "steady",
    title: "1,000,000 events a day (700 a minute) for one hour",
    scale: 10,
    events: 42_000,
    windowMs: HOUR,
    clients: 2000,
  },
  {
    name: "burst",
    title: "10,000 events from 200 clients within 10 seconds",
    scale: 1,
    events: 10_000,
    windowMs: 10_000,
    clients: 200,
    baseline: true,
  },
  {
    name: "faults",
    title:
      "700 a minute for 30 minutes; 5% of GitHub calls answer 502, and minutes 10-20 answer every write with the secondary-limit 403",
    scale: 10,
    events: 21_000,
    windowMs: 30 * MINUTE,
    clients: 2000,
    failureRate: 0.05,
    limitWindow: [10 * MINUTE, 10 * MINUTE],
  },
];

export const FAULT_SCENARIOS: Scenario[] = [
  {
    name: "secrets",
    title: "10,000 events over 15 minutes, one of which holds a secret GitHub's push protection refuses",
    scale: 10,
    events: 10_000,
    windowMs: 15 * MINUTE,
    clients: 2000,
    secretEvery: 10_000,
  },
  {
    name: "revoked",
    title: "700 a minute for 20 minutes; the token is revoked from minute 5 to 15, then valid again",
    scale: 10,
    events: 14_000,
    windowMs: 20 * MINUTE,
    clients: 2000,
    revokedWindow: [5 * MINUTE, 10 * MINUTE],
  },
  {
    name: "late-writes",
    title: "700 a minute for 20 minutes; 10% of writes land 10 s after their writer gave up on them",
    scale: 10,
    events: 14_000,
    windowMs: 20 * MINUTE,
    clients: 2000,
    lateWrites: 0.1,
  },
];

export type Mode = "spool" | "seeds' pattern";
