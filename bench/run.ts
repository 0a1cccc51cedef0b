/**
 * `npm run bench`: the real ingest handler and flusher, in this process, against a GitHub
 * simulator with the reference semantics (100-300 ms a call, branch-level conflicts, 80 writes a
 * minute and 500 an hour) on a scaled clock, with Netlify Blobs' own local server for the spool;
 * and, on the burst, the seeds' one-commit-per-event pattern as a baseline.
 */
import { measure, type Figures } from "./measure.ts";
import { FAULT_SCENARIOS, SCENARIOS, type Mode, type Scenario } from "./scenarios.ts";
import { drainSpool } from "./drain-spool.ts";
import { costTable } from "./cost-scenario.ts";
import { sendEvents, type Acknowledgements } from "./send-events.ts";
import { setUp } from "./set-up.ts";
import { yearOfParts, type YearFigures } from "./year-of-parts.ts";
import { erasureScenario, type ErasureFigures } from "./erasure-scenario.ts";
import { CLIENT_TIMEOUT_MS, coldStart, printColdStart } from "./cold-start.ts";
import { hourlyPublish, reportAgainstDuckDb, type PublishFigures, type ReportFigures } from "./read-path.ts";
import { printPeriod, reportPeriod } from "./report-period.ts";
import { printServe, servePage } from "./serve-page.ts";

interface Result extends Acknowledgements, Figures {
  scenario: string;
  mode: Mode;
  sent: number;
  drainMs: number;
  wallMs: number;
}

/** One scenario in one mode, on a GitHub (and a spool) of its own. */
async function run(scenario: Scenario, mode: Mode): Promise<Result> {
  const wallStart = performance.now();
  const bench = await setUp(scenario, mode);
  const acknowledgements = await sendEvents(scenario, bench);
  const drainMs = await drainSpool(scenario, bench);
  const figures = await measure(scenario, bench);
  await bench.close();
  return {
    scenario: scenario.name,
    mode,
    sent: scenario.events,
    ...acknowledgements,
    ...figures,
    drainMs,
    wallMs: performance.now() - wallStart,
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)] ?? 0;
}

function print(result: Result): void {
  const perStored = (value: number) => (result.stored > 0 ? value / result.stored : 0);
  const rows: [string, string][] = [
    ["events sent / acknowledged", `${result.sent} / ${result.acked}`],
    ["stored / lost / duplicated", `${result.stored} / ${result.lost} / ${result.duplicated}`],
    ["commits", `${result.commits}`],
    ["events per commit", (result.commits > 0 ? result.stored / result.commits : 0).toFixed(1)],
    ["GitHub requests per stored event", perStored(result.requests).toFixed(3)],
    ["bytes uploaded per stored event", perStored(result.uploadedBytes).toFixed(0)],
    [
      `ack p50 / p99 (${result.ackUnit})`,
      `${percentile(result.ackMs, 0.5).toFixed(1)} / ${percentile(result.ackMs, 0.99).toFixed(1)}`,
    ],
    [
      "most writes in any minute / hour",
      `${result.maxWritesPerMinute} / ${result.maxWritesPerHour}  (GitHub allows 80 / 500)`,
    ],
    [
      "rate-limit refusals (403/429)",
      `${result.limitRefusals}${result.injectedWindowRefusals > 0 ? ` (${result.injectedWindowRefusals} inside the injected window)` : ""}`,
    ],
    ...(result.setAside > 0 || result.scenario === "secrets"
      ? [["set aside (push protection)", `${result.setAside}`] as [string, string]]
      : []),
    ...(result.revokedInvocations !== undefined
      ? [["flush invocations while revoked (10 min)", `${result.revokedInvocations}`] as [string, string]]
      : []),
    ["drained after the last send (simulated)", `${(result.drainMs / 1000).toFixed(1)} s`],
    ["wall time", `${(result.wallMs / 1000).toFixed(1)} s`],
  ];
  console.log(`  ${result.mode}`);
  for (const [label, value] of rows) console.log(`    ${label.padEnd(42)} ${value}`);
}

function printYear(year: YearFigures): void {
  const rows: [string, string][] = [
    ["parts (315 a day at the 1 MiB cap)", year.parts.toLocaleString("en")],
    ["most entries in any folder", `${year.mostInFolder}  (GitHub lists 1,000)`],
    ["the same, in the layout before (a folder a month)", `${year.mostInOldMonthFolder}`],
    ["most entries in any listing the writer made", `${year.mostInListing}`],
    ["listings cut at GitHub's 1,000 entries", `${year.truncatedListings} of ${year.listings}`],
  ];
  for (const [label, value] of rows) console.log(`    ${label.padEnd(50)} ${value}`);
}

function printReport(figures: ReportFigures): void {
  const run = (r: { seconds: number; peakMb: number }) =>
    `${r.seconds.toFixed(2)} s, ${(figures.megabytes / r.seconds).toFixed(0)} MB/s, peak ${r.peakMb.toFixed(0)} MB`;
  const rows: [string, string][] = [
    [
      "data",
      `${figures.events.toLocaleString("en")} events, ${figures.megabytes.toFixed(0)} MB in ${figures.parts} parts`,
    ],
    ["telemetry report (every figure)", run(figures.report)],
    ["DuckDB alone (totals by day and event)", run(figures.duckdb)],
    ["telemetry sql (the same totals, bad lines checked)", run(figures.sql)],
    [
      "report time / DuckDB time",
      `${(figures.report.seconds / figures.duckdb.seconds).toFixed(2)}x  (goal: within 2x)`,
    ],
    ["report's installs against DuckDB's exact count", `${(figures.installsError * 100).toFixed(2)}%`],
  ];
  for (const [label, value] of rows) console.log(`    ${label.padEnd(52)} ${value}`);
}

function printPublish(figures: PublishFigures): void {
  const rows: [string, string][] = [
    ["new events since the last run", figures.newEvents.toLocaleString("en")],
    ["time", `${figures.seconds.toFixed(1)} s  (a scheduled function has 30 s)`],
    [
      "GitHub requests",
      `${figures.requests}: ${Object.entries(figures.requestsByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}`,
    ],
    ["MB downloaded", figures.megabytesRead.toFixed(1)],
    ["outcome, commits", `${figures.outcome}, ${figures.commits}`],
  ];
  for (const [label, value] of rows) console.log(`    ${label.padEnd(52)} ${value}`);
}

function printErasure(figures: ErasureFigures): void {
  const rows: [string, string][] = [
    [
      "events sent / stored / lost / duplicated",
      `${figures.sent} / ${figures.stored} / ${figures.lost} / ${figures.duplicated}`,
    ],
    ["spool's oldest event, greatest age (simulated)", `${(figures.oldestWaitMs / 1000).toFixed(1)} s`],
    ["longest erasure run (simulated)", `${(figures.longestRunMs / 1000).toFixed(1)} s`],
    [
      "real requests done",
      `${figures.realDone} of ${figures.realRequests} (their lines left: ${figures.seededLinesLeft})`,
    ],
    ["requests for ids never stored done", `${figures.unknownDone}`],
    [
      "erasure runs, by outcome",
      Object.entries(figures.runs)
        .map(([outcome, n]) => `${outcome} ${n}`)
        .join(", "),
    ],
    ["archive downloads", `${figures.archiveDownloads}`],
  ];
  for (const [label, value] of rows) console.log(`    ${label.padEnd(52)} ${value}`);
}

const only = process.argv.slice(2);
const cold =
  only.length === 0 || only.includes("cold-start")
    ? await (async () => {
        console.log("\ncold-start: npm start as a new user runs it, every function built afresh");
        const figures = await coldStart();
        printColdStart(figures);
        return figures;
      })()
    : undefined;
const year =
  only.length === 0 || only.includes("year")
    ? await (async () => {
        console.log("\nyear: a million events a day for 365 days, every day's parts at the default cap");
        const figures = await yearOfParts();
        printYear(figures);
        return figures;
      })()
    : undefined;
const readPath =
  only.length === 0 || only.includes("report")
    ? await (async () => {
        console.log("\nreport: telemetry report over a day of a million events, beside DuckDB over the same files");
        const figures = await reportAgainstDuckDb();
        printReport(figures);
        return figures;
      })()
    : undefined;
const period =
  only.length === 0 || only.includes("report-30")
    ? await (async () => {
        console.log(
          "\nreport-30: telemetry report --github over 30 days of a million a day (GitHub 100-300 ms a call)",
        );
        const figures = await reportPeriod();
        printPeriod(figures);
        return figures;
      })()
    : undefined;
const publish =
  only.length === 0 || only.includes("publish")
    ? await (async () => {
        console.log("\npublish: the hourly job over an hour of a million-a-day (GitHub 100-300 ms a call)");
        const figures = await hourlyPublish();
        printPublish(figures);
        return figures;
      })()
    : undefined;
const erasure =
  only.length === 0 || only.includes("erasure")
    ? await (async () => {
        console.log("\nerasure: 1,000 erasure requests (half for ids never stored) during steady ingest (clock x10)");
        const figures = await erasureScenario();
        printErasure(figures);
        return figures;
      })()
    : undefined;
if (only.length === 0 || only.includes("serve")) {
  console.log("\nserve: telemetry serve over 30 days of a local folder, in chromium");
  printServe(await servePage());
}
const cost = only.includes("cost")
  ? await (async () => {
      console.log("\ncost: a month at 1,000, 10,000 and 100,000 events a day, from measured runs (clock x10)");
      return costTable();
    })()
  : undefined;
const chosen = [...SCENARIOS, ...FAULT_SCENARIOS].filter(
  (candidate) => only.length === 0 || only.includes(candidate.name),
);
const results: Result[] = [];
// The baselines last: their thousands of failing connections would still be closing while a later scenario ran.
for (const [scenario, mode] of [
  ...chosen.map((scenario) => [scenario, "spool"] as const),
  ...chosen.filter((scenario) => scenario.baseline).map((scenario) => [scenario, "seeds' pattern"] as const),
]) {
  console.log(`\n${scenario.name}: ${scenario.title} (clock x${scenario.scale})`);
  const result = await run(scenario, mode);
  results.push(result);
  print(result);
}

const spool = results.filter((result) => result.mode === "spool");
const checks: [string, boolean][] = [
  [
    `cold-start: the first event after ready taken within the client's ${CLIENT_TIMEOUT_MS / 1000} s`,
    cold === undefined || (cold.firstStatus === 201 && cold.firstAnswerMs < CLIENT_TIMEOUT_MS),
  ],
  [
    "erasure: 0 lost or duplicated, every request done, the spool's oldest within a minute plus one run",
    erasure === undefined ||
      (erasure.lost === 0 &&
        erasure.duplicated === 0 &&
        erasure.realDone === erasure.realRequests &&
        erasure.seededLinesLeft === 0 &&
        erasure.oldestWaitMs <= 60_000 + erasure.longestRunMs),
  ],
  ["cost: every event of its runs stored once", cost !== false],
  ["0 lost, 0 duplicated", spool.every((result) => result.lost === 0 && result.duplicated === 0)],
  ["ack p99 under 250 ms", spool.every((result) => percentile(result.ackMs, 0.99) < 250)],
  [
    "GitHub's limits never reached",
    spool.every(
      (result) =>
        result.maxWritesPerMinute <= 80 &&
        result.maxWritesPerHour <= 500 &&
        result.limitRefusals === result.injectedWindowRefusals,
    ),
  ],
  [
    "secrets: the one event set aside, every other stored, no stall",
    spool
      .filter((result) => result.scenario === "secrets")
      .every((result) => result.setAside === result.sent / 10_000 && result.stored === result.sent - result.setAside),
  ],
  [
    "revoked: at most 30 flush invocations in the 10 revoked minutes",
    spool.filter((result) => result.scenario === "revoked").every((result) => (result.revokedInvocations ?? 0) <= 30),
  ],
  [
    "year: no folder and no listing of the writer's past 1,000 entries",
    year === undefined || (year.mostInFolder <= 1000 && year.mostInListing < 1000 && year.truncatedListings === 0),
  ],
  [
    "report: within 2x of DuckDB's time, peak memory under 300 MB",
    readPath === undefined || (readPath.report.seconds <= 2 * readPath.duckdb.seconds && readPath.report.peakMb < 300),
  ],
  [
    "report-30: under 60 GitHub requests, 10x or more faster than DuckDB over the raw files, the same totals",
    period === undefined ||
      (period.report.requests < 60 && period.duckdb.seconds >= 10 * period.report.seconds && period.agree),
  ],
  [
    "publish: an hour of a million-a-day in one commit, well inside 30 s",
    publish === undefined || (publish.outcome === "published" && publish.commits === 1 && publish.seconds < 20),
  ],
  [
    "steady: 100 or more events per commit",
    spool.filter((result) => result.scenario === "steady").every((result) => result.stored / result.commits >= 100),
  ],
];
console.log("\nspool, all scenarios:");
for (const [label, ok] of checks) console.log(`  ${ok ? "yes" : "NO "}  ${label}`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
