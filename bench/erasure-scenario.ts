/**
 * `npm run bench -- erasure`: 1,000 erasure requests (half for installs stored before the run,
 * half for ids never stored) arriving through the erasure endpoint during steady ingest, against
 * the GitHub simulator: what ingestion loses, how old the spool's oldest event gets, whether every
 * real request is done, and what the erasure costs in runs and archive downloads.
 */
import { ndjsonLine } from "../lib/storage/ndjson-line.ts";
import { requestErasure } from "../lib/http/endpoints/request-erasure.ts";
import { ERASURE_BUDGET_MS, type ErasureRun } from "../lib/lifecycle/erase-installs.ts";
import { MINUTE, type Scenario } from "./scenarios.ts";
import { sendEvents } from "./send-events.ts";
import { setUp, type SpoolService } from "./set-up.ts";

const SCENARIO: Scenario = {
  name: "erasure",
  title: "1,000 erasure requests, half for ids never stored, during 700 events a minute for 10 minutes",
  scale: 10,
  events: 7000,
  windowMs: 10 * MINUTE,
  clients: 2000,
};
const REQUESTS = 1000;
const SEEDED_DAYS = 5;
const SEEDED_LINES_A_DAY = 2;
/** The erase-pending schedule. */
const SCHEDULE_MS = 10 * MINUTE;
/** After the last send, the schedule goes on at most this long for the requests left. */
const SETTLE_LIMIT_MS = 60 * MINUTE;
const SAMPLE_MS = 5000;

export interface ErasureFigures {
  sent: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** The spool's oldest event's greatest age seen (simulated ms). */
  oldestWaitMs: number;
  /** The longest erasure run (simulated ms). */
  longestRunMs: number;
  realRequests: number;
  realDone: number;
  unknownDone: number;
  seededLinesLeft: number;
  runs: Record<string, number>;
  archiveDownloads: number;
}

export async function erasureScenario(): Promise<ErasureFigures> {
  const bench = await setUp(SCENARIO, "spool");
  const { clock, github } = bench;
  const service = bench.service as SpoolService;
  const { runtime } = service;
  const erasure = runtime.erasure!;
  const real = Array.from({ length: REQUESTS / 2 }, (_, i) => `erase-me-${i}`);
  github.seedAll(seeded(real, clock.now()));
  const runs: Record<string, number> = {};
  let downloads = 0;
  let longestRunMs = 0;
  const runOnce = async () => {
    const began = clock.now();
    const report: ErasureRun = await erasure.run(ERASURE_BUDGET_MS);
    runs[report.outcome] = (runs[report.outcome] ?? 0) + 1;
    downloads += report.archive_downloads;
    if (report.outcome !== "running") longestRunMs = Math.max(longestRunMs, clock.now() - began);
  };
  const started: Promise<void>[] = [];
  const start = async () => void started.push(runOnce());
  let oldestWaitMs = 0;
  let sampling = true;
  const sample = async () => {
    while (sampling) {
      const [oldest] = await runtime.spool!.spool.oldest(1);
      if (oldest) oldestWaitMs = Math.max(oldestWaitMs, clock.now() - oldest.at);
      await clock.sleep(SAMPLE_MS);
    }
  };
  const schedule = setInterval(() => void start(), SCHEDULE_MS / SCENARIO.scale);
  const ids: { real: boolean; id: string }[] = [];
  const ask = async () => {
    for (let i = 0; i < REQUESTS; i += 1) {
      await clock.sleep(SCENARIO.windowMs / REQUESTS);
      const hwid = i % 2 === 0 ? real[i / 2]! : `never-stored-${i}`;
      const answer = await requestErasure(
        new Request("http://bench.test/api/v1/erasure", { method: "POST", body: JSON.stringify({ hwid }) }),
        { runtime, startErasure: start },
      );
      ids.push({ real: i % 2 === 0, id: ((await answer.json()) as { request_id: string }).request_id });
    }
  };
  const sampled = sample();
  await Promise.all([sendEvents(SCENARIO, bench), ask()]);
  const settleBy = clock.now() + SETTLE_LIMIT_MS;
  const statuses = async () =>
    Promise.all(ids.map(async (request) => (await erasure.requests.status(request.id))?.status));
  while (clock.now() < settleBy && (await statuses()).some((status) => status !== "done")) await clock.sleep(MINUTE);
  clearInterval(schedule);
  await Promise.all(started);
  sampling = false;
  await sampled;
  const done = await statuses();
  const copies = new Map<number, number>();
  let seededLinesLeft = 0;
  for (const path of github.paths()) {
    for (const line of (github.file(path) ?? "").split("\n").filter(Boolean)) {
      const { seq } = (JSON.parse(line) as { metadata: { seq: number } }).metadata;
      if (seq < 0) seededLinesLeft += 1;
      else copies.set(seq, (copies.get(seq) ?? 0) + 1);
    }
  }
  await bench.close();
  return {
    sent: SCENARIO.events,
    stored: copies.size,
    lost: SCENARIO.events - copies.size,
    duplicated: [...copies.values()].filter((count) => count > 1).length,
    oldestWaitMs,
    longestRunMs,
    realRequests: REQUESTS / 2,
    realDone: ids.filter((request, i) => request.real && done[i] === "done").length,
    unknownDone: ids.filter((request, i) => !request.real && done[i] === "done").length,
    seededLinesLeft,
    runs,
    archiveDownloads: downloads,
  };
}

/** The installs' lines of the days before the run, as the flusher would have written them (seq < 0: not the run's). */
function seeded(hwids: readonly string[], now: number): Map<string, string> {
  const files = new Map<string, string>();
  let seq = 0;
  for (let ago = SEEDED_DAYS; ago >= 1; ago -= 1) {
    const day = new Date(now - ago * 24 * 60 * MINUTE).toISOString().slice(0, 10);
    const lines = hwids.flatMap((hwid) =>
      Array.from({ length: SEEDED_LINES_A_DAY }, () => {
        seq -= 1;
        return ndjsonLine({
          event_id: `00000000-0000-4000-8000-${String(-seq).padStart(12, "0")}`,
          created_at: `${day}T12:00:00.000Z`,
          ip: null,
          hwid,
          event_name: "app_launch",
          app_version: "1.4.0",
          client_type: "vector-inspector",
          metadata: { seq },
        });
      }),
    );
    files.set(`telemetry/${day.replaceAll("-", "/")}/0001.ndjson`, lines.join(""));
  }
  return files;
}
