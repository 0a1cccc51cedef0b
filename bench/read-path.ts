/**
 * The read path at the README's top rate: `telemetry report` over a day of a million events (about
 * 330 MB in 1 MiB parts), beside DuckDB computing the same totals over the same files, each a
 * process of its own whose peak memory is read at its exit; and the hourly job over the hour's
 * 42,000 new events, against the GitHub simulator (100-300 ms a call) and Netlify Blobs' server.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../lib/config.ts";
import { dayOf } from "../lib/day.ts";
import { dashboardJobs } from "../lib/lifecycle/dashboard-jobs.ts";
import { createRuntime } from "../lib/runtime.ts";
import { PUBLISH_SCHEDULED_BUDGET_MS } from "../lib/insights/publish-insights.ts";
import { startBlobs } from "../test/support/blobs.ts";
import { FakeGitHub, serveFakeGitHub } from "../test/support/fake-github/index.ts";

const ROOT = join(import.meta.dirname, "..");
const EVENTS_PER_DAY = 1_000_000;
const EVENTS_PER_HOUR = Math.round(EVENTS_PER_DAY / 24);
const INSTALLS = 50_000;
const MAX_FILE_BYTES = 1024 * 1024;
const MEMORY_TMPDIR = "/dev/shm";
const GITHUB = { token: "bench-read-token", owner: "acme", repo: "telemetry-data" };
const GITHUB_LATENCY_MS: [number, number] = [100, 300];
const NODE_FLAGS = ["--experimental-transform-types", "--no-warnings"];
export const TOTALS_SQL =
  "SELECT day, event_name, count(*) AS events, count(DISTINCT hwid) AS installs FROM events GROUP BY ALL ORDER BY ALL";

export interface ReportFigures {
  events: number;
  megabytes: number;
  parts: number;
  report: Run;
  duckdb: Run;
  sql: Run;
  /** The report's installs against the exact count DuckDB gave. */
  installsError: number;
}

export interface Run {
  seconds: number;
  peakMb: number;
  stdout: string;
}

export interface PublishFigures {
  newEvents: number;
  seconds: number;
  requests: number;
  requestsByKind: Record<string, number>;
  megabytesRead: number;
  outcome: string;
  commits: number;
}

/** A day of `events` synthetic stored lines of the Vector Inspector client, in parts at the cap. */
export function* syntheticLines(day: string, events: number, first = 0): Generator<string> {
  const names = ["app_launch", "session.start", "query.executed", "query.executed", "embedding.request", "session.end"];
  const versions = ["0.4.0", "0.4.1", "0.4.2", "0.5.0"];
  const oses = ["Windows-10-10.0.22631-SP0", "Darwin-23.1.0", "Linux-6.1-x86_64-with-glibc2.36"];
  for (let i = first; i < first + events; i += 1) {
    const install = (i * 7919) % INSTALLS;
    const name = names[i % names.length]!;
    const second = Math.floor((i / events) * 86_400) % 86_400;
    const at = `${day}T${String(Math.floor(second / 3600)).padStart(2, "0")}:${String(Math.floor(second / 60) % 60).padStart(2, "0")}:${String(second % 60).padStart(2, "0")}.${String(i % 1000).padStart(3, "0")}Z`;
    const metadata =
      name === "query.executed"
        ? `{"session_id":"s-${install}-${i % 13}","query_type":"similarity","db_type":"chroma","result_count":${i % 50},"latency_ms":${(i * 37) % 900},"success":true}`
        : name === "session.end"
          ? `{"session_id":"s-${install}-${i % 13}","duration_ms":${(i * 101) % 3_600_000},"exit_reason":"${i % 7 === 0 ? "crash" : "normal"}"}`
          : `{"session_id":"s-${install}-${i % 13}","os":"${oses[install % oses.length]}","sampling_rate":${i % 10 === 0 ? 0.5 : 1}}`;
    yield `{"event_id":"00000000-0000-4000-8000-${String(i).padStart(12, "0")}","created_at":"${at}","ip":null,"hwid":"hw-${String(install).padStart(26, "0")}","event_name":"${name}","app_version":"${versions[install % versions.length]}","client_type":"vector-inspector","metadata":${metadata}}\n`;
  }
}

/** The parts of a day, as the service cuts them: a new part once the next line would pass the cap. */
function partsOf(lines: Iterable<string>): string[] {
  const parts: string[] = [];
  let current = "";
  for (const line of lines) {
    if (current.length + line.length > MAX_FILE_BYTES && current !== "") {
      parts.push(current);
      current = "";
    }
    current += line;
  }
  if (current !== "") parts.push(current);
  return parts;
}

function partPath(day: string, n: number): string {
  return `telemetry/${day.slice(0, 4)}/${day.slice(5, 7)}/${day.slice(8, 10)}/${String(n).padStart(4, "0")}.ndjson`;
}

/** Writes a synthetic day of `events` into `dir` as the service would (parts at the cap). */
export async function writeSyntheticDay(
  dir: string,
  day: string,
  events: number,
): Promise<{ parts: number; bytes: number }> {
  const parts = partsOf(syntheticLines(day, events));
  let bytes = 0;
  await mkdir(join(dir, partPath(day, 1), ".."), { recursive: true });
  for (const [n, part] of parts.entries()) {
    await writeFile(join(dir, partPath(day, n + 1)), part);
    bytes += part.length;
  }
  return { parts: parts.length, bytes };
}

/** Runs a command of the project as its own process (`env` added to a clean one), and reads its peak memory (max RSS) as it exits. */
export async function timed(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, [...NODE_FLAGS, "--import", join(ROOT, "bench/max-rss.ts"), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${args.join(" ")} exited ${code}: ${stderr}`);
  const peakKb = Number(/max_rss_kb=(\d+)/.exec(stderr)?.[1] ?? NaN);
  return { seconds, peakMb: peakKb / 1024, stdout };
}

export async function reportAgainstDuckDb(): Promise<ReportFigures> {
  const base = existsSync(MEMORY_TMPDIR) ? MEMORY_TMPDIR : tmpdir();
  const dir = await mkdtemp(join(base, "telemetry-bench-read-"));
  const day = "2026-11-22";
  try {
    const { parts, bytes } = await writeSyntheticDay(dir, day, EVENTS_PER_DAY);
    const report = await timed([
      "cli/telemetry.ts",
      "report",
      "--data",
      dir,
      "--from",
      day,
      "--to",
      day,
      "--format",
      "json",
    ]);
    const duckdb = await timed(["bench/duckdb-totals.ts", dir]);
    const sql = await timed(["cli/telemetry.ts", "sql", "--data", dir, "--format", "json", TOTALS_SQL]);
    const exact = JSON.parse(duckdb.stdout) as { installs: number };
    const reported = JSON.parse(report.stdout) as { totals: { installs: number } };
    return {
      events: EVENTS_PER_DAY,
      megabytes: bytes / 1e6,
      parts,
      report,
      duckdb,
      sql,
      installsError: reported.totals.installs / exact.installs - 1,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The hourly job at a million events a day: the day's earlier hour rolled up by a first run, then
 * an hour's new events appended (the open part grown, new parts added); the second run is measured.
 */
export async function hourlyPublish(): Promise<PublishFigures> {
  const day = dayOf(new Date());
  const github = new FakeGitHub({ ...GITHUB, latencyMs: GITHUB_LATENCY_MS });
  const server = await serveFakeGitHub(github);
  const blobs = await startBlobs();
  try {
    const config = loadConfig({
      GITHUB_TOKEN: GITHUB.token,
      GITHUB_REPOSITORY: `${GITHUB.owner}/${GITHUB.repo}`,
      GITHUB_API_URL: server.url,
    });
    const runtime = createRuntime(config, { blobs: blobs.store(), jobs: dashboardJobs });
    if (!runtime.ok) throw new Error("bench runtime not configured");
    const lines = [...syntheticLines(day, 2 * EVENTS_PER_HOUR)];
    const seedDay = (count: number) =>
      github.seedAll(partsOf(lines.slice(0, count)).map((part, n): [string, string] => [partPath(day, n + 1), part]));
    seedDay(EVENTS_PER_HOUR);
    const first = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    if (first.outcome !== "published") throw new Error(`the first run did not publish: ${JSON.stringify(first)}`);
    seedDay(2 * EVENTS_PER_HOUR);
    const before = github.requests.length;
    const commitsBefore = github.commits.length;
    const started = performance.now();
    const second = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    const seconds = (performance.now() - started) / 1000;
    const made = github.requests.slice(before);
    const requestsByKind: Record<string, number> = {};
    for (const request of made) {
      const kind = `${request.method} ${request.path.includes("/git/") ? `git/${request.path.split("/git/")[1]!.split("/")[0]}` : "contents"}`;
      requestsByKind[kind] = (requestsByKind[kind] ?? 0) + 1;
    }
    return {
      newEvents: EVENTS_PER_HOUR,
      seconds,
      requests: made.length,
      requestsByKind,
      megabytesRead: second.days.reduce((sum, d) => sum + d.bytes_read, 0) / 1e6,
      outcome: second.outcome,
      commits: github.commits.length - commitsBefore,
    };
  } finally {
    await server.close();
    await blobs.close();
  }
}
