/** The benchmark's scenarios, each run with the spool and, where it says so, with the seeds' pattern. */

export const MINUTE = 60_000;
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
  baseline?: boolean;
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

export type Mode = "spool" | "seeds' pattern";
