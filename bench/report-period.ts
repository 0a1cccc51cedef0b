/**
 * `telemetry report --github` over 30 days at a million events a day, against the GitHub stand-in at
 * GitHub's pace (100-300 ms a call): the rollups of 28 days current, yesterday's and today's an hour
 * behind (the hourly job runs each hour); beside DuckDB (`telemetry sql`) over the same 30 days' raw
 * files in /dev/shm. Then two whole days without any rollup. To keep the set-up cheap, the 28 current
 * days' folders on the stand-in hold one day's bytes (never read: their rollups are current), and their
 * rollups are that day's, re-dated; the files DuckDB reads are each day's own lines.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../lib/clock.ts";
import { addDays, dayOf } from "../lib/day.ts";
import { rollupPath } from "../lib/tally/day-rollup.ts";
import { rollUpDay, sourceSignature } from "../lib/insights/roll-up-day.ts";
import type { DaySource } from "../lib/storage/layout/day-sources.ts";
import type { RepositoryEntry } from "../lib/storage/repository-files.ts";
import { ROLLUP_VERSION, type DayRollup } from "../lib/tally/day-rollup.ts";
import { FakeGitHub, serveFakeGitHub } from "../test/support/fake-github/index.ts";
import { timed, TOTALS_SQL, writeSyntheticDay } from "./read-path.ts";

const DAYS = 30;
const EVENTS_PER_DAY = 1_000_000;
/** How far behind the hourly job leaves today's and yesterday's rollups: an hour of the day's bytes. */
const BEHIND_SHARE = 1 / 24;
const MEMORY_TMPDIR = "/dev/shm";
const GITHUB = { token: "bench-report-token", owner: "acme", repo: "telemetry-data" };
const GITHUB_LATENCY_MS: [number, number] = [100, 300];

interface GitHubRead {
  requests: number;
  byKind: Record<string, number>;
  megabytes: number;
  seconds: number;
}

interface PeriodFigures {
  days: number;
  rawMegabytes: number;
  report: GitHubRead;
  duckdb: { seconds: number; megabytes: number };
  /** Two whole days with no rollup at all. */
  noRollups: GitHubRead;
  /** The 30-day report and DuckDB gave the same totals. */
  agree: boolean;
}

type DayFiles = Map<string, Uint8Array<ArrayBuffer>>;

export async function reportPeriod(): Promise<PeriodFigures> {
  const base = existsSync(MEMORY_TMPDIR) ? MEMORY_TMPDIR : tmpdir();
  const dir = await mkdtemp(join(base, "telemetry-bench-period-"));
  const today = dayOf(new Date());
  const days = Array.from({ length: DAYS }, (_, i) => addDays(today, i - (DAYS - 1)));
  const [yesterday] = days.slice(-2);
  try {
    const { bytes } = await writeSyntheticDay(dir, days[0]!, EVENTS_PER_DAY);
    const shared = await dayFilesOf(dir, days[0]!);
    for (const day of days.slice(1)) await writeDay(dir, day, redated(shared, days[0]!, day));
    const rawBytes = bytes * DAYS;
    const behind = new Map(
      await Promise.all([yesterday!, today].map(async (day) => [day, await dayFilesOf(dir, day)] as const)),
    );

    const github = new FakeGitHub({ ...GITHUB, latencyMs: GITHUB_LATENCY_MS });
    github.seedAll(
      days.flatMap((day) =>
        [...(behind.get(day) ?? shared)].map(([name, bytes]): [string, Uint8Array<ArrayBuffer>] => [
          `${folderOf(day)}/${name}`,
          bytes,
        ]),
      ),
    );
    const full = await rollupOf(days[0]!, shared, 1);
    const index: {
      version: number;
      months: Record<string, string>;
      days: Record<string, { source: string | null; complete: boolean }>;
    } = { version: ROLLUP_VERSION, months: {}, days: {} };
    const rollups: [string, string][] = [];
    for (const day of days) {
      const source = sourceSignature(sourceOf(day, github.treeOf(folderOf(day))))!;
      const hourBehind = behind.get(day);
      const rollup = hourBehind
        ? { ...(await rollupOf(day, hourBehind, 1 - BEHIND_SHARE)), source: "an hour ago", complete: false }
        : { ...full, day, source, complete: true };
      index.days[day] = { source: rollup.source, complete: rollup.complete };
      rollups.push([rollupPath(day), `${JSON.stringify(rollup)}\n`]);
    }
    github.seedAll([...rollups, ["rollups/index.json", `${JSON.stringify(index)}\n`]]);
    const report = await reportOver(github, days[0]!, today);

    const sql = await timed(["cli/telemetry.ts", "sql", "--data", dir, "--format", "json", TOTALS_SQL]);
    const totals = JSON.parse(report.stdout) as { totals: { received: number } };
    const rows = JSON.parse(sql.stdout) as { events: number }[];
    const agree = totals.totals.received === rows.reduce((sum, row) => sum + Number(row.events), 0);

    const bare = new FakeGitHub({ ...GITHUB, latencyMs: GITHUB_LATENCY_MS });
    bare.seedAll(
      [...behind].flatMap(([day, files]) =>
        [...files].map(([name, bytes]): [string, Uint8Array<ArrayBuffer>] => [`${folderOf(day)}/${name}`, bytes]),
      ),
    );
    const noRollups = await reportOver(bare, yesterday!, today);
    return {
      days: DAYS,
      rawMegabytes: rawBytes / 1e6,
      report: report.read,
      duckdb: { seconds: sql.seconds, megabytes: rawBytes / 1e6 },
      noRollups: noRollups.read,
      agree,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function printPeriod(figures: PeriodFigures): void {
  const read = (r: GitHubRead) =>
    `${r.requests} requests, ${r.megabytes.toFixed(1)} MB downloaded, ${r.seconds.toFixed(2)} s`;
  const kinds = (r: GitHubRead) =>
    Object.entries(r.byKind)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(", ");
  const rows: [string, string][] = [
    ["data", `${figures.days} days, ${figures.rawMegabytes.toFixed(0)} MB of raw files`],
    ["telemetry report --github (28 current, 2 an hour behind)", read(figures.report)],
    ["  requests by kind", kinds(figures.report)],
    [
      "DuckDB (telemetry sql) over the raw files",
      `0 requests, ${figures.duckdb.megabytes.toFixed(0)} MB read, ${figures.duckdb.seconds.toFixed(2)} s`,
    ],
    [
      "DuckDB time / report time",
      `${(figures.duckdb.seconds / figures.report.seconds).toFixed(1)}x  (goal: 10x or more)`,
    ],
    ["report's lines received = DuckDB's events", figures.agree ? "yes" : "NO"],
    ["two whole days without a rollup", read(figures.noRollups)],
    ["  requests by kind", kinds(figures.noRollups)],
  ];
  for (const [label, value] of rows) console.log(`    ${label.padEnd(58)} ${value}`);
}

/** `telemetry report --github` from `from` to `to` against `github` served, with what it asked of it. */
async function reportOver(github: FakeGitHub, from: string, to: string): Promise<{ read: GitHubRead; stdout: string }> {
  const server = await serveFakeGitHub(github);
  try {
    const before = github.requests.length;
    const env = { GITHUB_TOKEN: GITHUB.token, GITHUB_API_URL: server.url };
    const run = await timed(
      [
        "cli/telemetry.ts",
        "report",
        "--github",
        `${GITHUB.owner}/${GITHUB.repo}`,
        "--from",
        from,
        "--to",
        to,
        "--format",
        "json",
      ],
      env,
    );
    const made = github.requests.slice(before);
    const byKind: Record<string, number> = {};
    for (const { method, path } of made) {
      const kind = path.startsWith("/_codeload/")
        ? "archive download"
        : `${method} ${/\/(contents|git\/\w+|tarball)/.exec(path)?.[1] ?? path}`;
      byKind[kind] = (byKind[kind] ?? 0) + 1;
    }
    const megabytes = made.reduce((sum, request) => sum + request.bytes, 0) / 1e6;
    return { read: { requests: made.length, byKind, megabytes, seconds: run.seconds }, stdout: run.stdout };
  } finally {
    await server.close();
  }
}

/** `files` with every `from` date in their lines made `to` (the same length: each line keeps its bytes). */
function redated(files: DayFiles, from: string, to: string): DayFiles {
  const [old, day] = [Buffer.from(from), Buffer.from(to)];
  return new Map(
    [...files].map(([name, bytes]) => {
      const copy = Buffer.from(bytes);
      for (let at = copy.indexOf(old); at >= 0; at = copy.indexOf(old, at + old.length)) day.copy(copy, at);
      return [name, new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength)];
    }),
  );
}

async function writeDay(dir: string, day: string, files: DayFiles): Promise<void> {
  const folder = join(dir, folderOf(day));
  await mkdir(folder, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(folder, name), bytes);
}

/** A day's parts as written in `dir`, by name. */
async function dayFilesOf(dir: string, day: string): Promise<DayFiles> {
  const folder = join(dir, folderOf(day));
  const names = (await readdir(folder)).sort();
  return new Map(
    await Promise.all(names.map(async (name) => [name, new Uint8Array(await readFile(join(folder, name)))] as const)),
  );
}

/** The rollup the hourly job would have written of the first `share` of `files`' bytes (cut at a line). */
async function rollupOf(day: string, files: DayFiles, share: number): Promise<DayRollup> {
  const total = [...files.values()].reduce((sum, bytes) => sum + bytes.byteLength, 0);
  let left = Math.floor(total * share);
  const seen = new Map<string, Buffer>();
  for (const [name, bytes] of files) {
    if (left <= 0) break;
    const cut = bytes.byteLength <= left ? bytes.byteLength : bytes.lastIndexOf(0x0a, left) + 1;
    seen.set(name, Buffer.from(bytes.buffer, bytes.byteOffset, cut));
    left -= bytes.byteLength;
  }
  const folder = folderOf(day);
  const entries: RepositoryEntry[] = [...seen].map(([name, bytes]) => ({
    path: `${folder}/${name}`,
    name,
    type: "file",
    sha: "",
    size: bytes.length,
  }));
  const memory = {
    list: async () => entries,
    read: async (path: string) => seen.get(path.slice(folder.length + 1)),
  };
  const read = await rollUpDay(memory, sourceOf(day, ""), undefined, {
    deadline: Date.now() + 3_600_000,
    clock: systemClock,
  });
  return read.rollup;
}

function sourceOf(day: string, sha: string): DaySource {
  const path = folderOf(day);
  return { day, folder: { path, name: day.slice(8), type: "dir", sha, size: 0 }, oldFiles: [] };
}

function folderOf(day: string): string {
  return `telemetry/${day.slice(0, 4)}/${day.slice(5, 7)}/${day.slice(8, 10)}`;
}
