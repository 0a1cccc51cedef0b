/**
 * `npm run bench -- cost`: what a month costs at 1,000, 10,000 and 100,000 events a day, from
 * per-request figures measured here (the real ingest handler and flusher against the simulator,
 * the flush-spool schedule every minute), for the real client (one event a request) and for
 * a client that sends 100 events a request.
 */
import { drainSpool } from "./drain-spool.ts";
import { measure } from "./measure.ts";
import { MINUTE, type Scenario } from "./scenarios.ts";
import { sendEvents } from "./send-events.ts";
import { setUp } from "./set-up.ts";

const MONTH_DAYS = 30;
const DAY_MS = 24 * 60 * MINUTE;
/** The batching client's events a request. */
const BATCH = 100;
/** Runs a month of the scheduled functions, by their schedules (netlify/functions/). */
const SCHEDULED_RUNS: Record<string, number> = {
  "flush-spool (every minute)": 43_200,
  "erase-pending (every 10 minutes)": 4320,
  "publish-insights (hourly)": 720,
  "apply-retention (daily)": 30,
};

/** What one measured run cost, for so many requests. */
interface Measured {
  events: number;
  requests: number;
  telemetryMs: number;
  wokenFlushes: number;
  flushMs: number;
  githubRequests: number;
  commits: number;
  lostOrDuplicated: number;
}

/** A month's figures for one client at one rate. */
interface CostRow {
  perDay: number;
  client: "one event a request" | `${number} events a request`;
  telemetryInvocations: number;
  flushInvocations: number;
  functionSeconds: number;
  githubRequests: number;
  commits: number;
}

/**
 * The measured runs: requests far apart (an event every 86 s at 1,000 a day) are each flushed on
 * their own, so that regime is measured at one request every 20 s (longer than the 9 s pace and a
 * flush), in a tenth of the time; 10,000 and 100,000 a day at their own rates.
 */
const RUNS: { name: string; scenario: Scenario }[] = [
  { name: "far apart", scenario: costScenario(30, 10 * MINUTE, 1) },
  { name: "10,000 a day", scenario: costScenario(Math.round((10_000 * 20 * MINUTE) / DAY_MS), 20 * MINUTE, 1) },
  { name: "100,000 a day", scenario: costScenario(Math.round((100_000 * 20 * MINUTE) / DAY_MS), 20 * MINUTE, 1) },
  { name: "far apart, 100 events a request", scenario: costScenario(30 * BATCH, 10 * MINUTE, BATCH) },
];

function costScenario(events: number, windowMs: number, batch: number): Scenario {
  return { name: "cost", title: "", scale: 10, events, windowMs, clients: 200, batch };
}

async function measureRun(scenario: Scenario): Promise<Measured> {
  const bench = await setUp(scenario, "spool");
  const { ackMs } = await sendEvents(scenario, bench);
  await drainSpool(scenario, bench);
  const figures = await measure(scenario, bench);
  await bench.close();
  const service = bench.service.mode === "spool" ? bench.service : undefined;
  return {
    events: scenario.events,
    requests: ackMs.length,
    telemetryMs: ackMs.reduce((sum, ms) => sum + ms, 0),
    wokenFlushes: (service?.invocations.length ?? 0) - (service?.scheduledRuns ?? 0),
    flushMs: service?.flushMs ?? 0,
    githubRequests: figures.requests,
    commits: figures.commits,
    lostOrDuplicated: figures.lost + figures.duplicated,
  };
}

/** A month at `perDay` events, from a run measured in the same regime, scaled by requests. */
function monthOf(perDay: number, client: CostRow["client"], run: Measured, eventsPerRequest: number): CostRow {
  const requests = (perDay / eventsPerRequest) * MONTH_DAYS;
  const per = requests / (run.events / eventsPerRequest);
  return {
    perDay,
    client,
    telemetryInvocations: Math.round(run.requests * per),
    flushInvocations: Math.round(run.wokenFlushes * per),
    functionSeconds: Math.round(((run.telemetryMs + run.flushMs) * per) / 1000),
    githubRequests: Math.round(run.githubRequests * per),
    commits: Math.round(run.commits * per),
  };
}

/** Measures the runs and prints a month's figures at each rate, for both clients; whether every event was stored once. */
export async function costTable(): Promise<boolean> {
  const measured: Measured[] = [];
  for (const { name, scenario } of RUNS) {
    const run = await measureRun(scenario);
    measured.push(run);
    console.log(
      `    ${name.padEnd(34)} ${run.requests} requests, ${run.wokenFlushes} woken flushes (${(run.flushMs / 1000).toFixed(1)} s),` +
        ` ${run.githubRequests} GitHub requests, ${run.commits} commits, ${run.lostOrDuplicated} lost or duplicated`,
    );
  }
  const [apart, tenThousand, hundredThousand, batched] = measured as [Measured, Measured, Measured, Measured];
  const rows: CostRow[] = [
    monthOf(1_000, "one event a request", apart, 1),
    monthOf(10_000, "one event a request", tenThousand, 1),
    monthOf(100_000, "one event a request", hundredThousand, 1),
    // 10 to 1,000 requests a day: every one far apart from the next.
    ...[1_000, 10_000, 100_000].map((perDay) => monthOf(perDay, `${BATCH} events a request`, batched, BATCH)),
  ];
  const scheduled = Object.values(SCHEDULED_RUNS).reduce((sum, runs) => sum + runs, 0);
  console.log(`\n    a month (${MONTH_DAYS} days); the schedules add ${scheduled.toLocaleString("en")} invocations:`);
  for (const [name, runs] of Object.entries(SCHEDULED_RUNS)) console.log(`      ${name}: ${runs.toLocaleString("en")}`);
  console.log(
    "\n    events a day  client                telemetry  flush (woken)  function s (ingest+flush)  GitHub requests  commits",
  );
  for (const row of rows) {
    console.log(
      `    ${row.perDay.toLocaleString("en").padStart(12)}  ${row.client.padEnd(20)}  ${row.telemetryInvocations.toLocaleString("en").padStart(9)}` +
        `  ${row.flushInvocations.toLocaleString("en").padStart(13)}  ${row.functionSeconds.toLocaleString("en").padStart(25)}` +
        `  ${row.githubRequests.toLocaleString("en").padStart(15)}  ${row.commits.toLocaleString("en").padStart(7)}`,
    );
  }
  return measured.every((run) => run.lostOrDuplicated === 0);
}
