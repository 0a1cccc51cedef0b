/**
 * What the data repository costs on GitHub: for one simulated day at 1,000 to 1,000,000 events, the
 * commits the flusher makes (paced as it paces them, each rewriting the day's newest part whole)
 * are fed to a bare repository by `git fast-import`, which is then repacked as a maintainer would
 * (`git gc --aggressive --prune=now`, at the default delta window) and measured (`git count-objects
 * -v`, size-pack). The same day's final files alone, as one root commit, give what a squashed
 * history costs. A year, and a year under 30 days of retention, are that one day multiplied: an
 * extrapolation, not a run.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { partitionOf, partPath } from "../lib/storage/layout/partition.ts";
import { commitsOfDay } from "./commits-of-day.ts";
import { startOfDay } from "../lib/day.ts";

const VOLUMES = [1_000, 10_000, 100_000, 1_000_000];
const DAY = "2026-11-22";
const DAY_START = startOfDay(DAY);
const PREFIX = "telemetry";
const RETENTION_DAYS = 30;
const DAYS_A_YEAR = 365;
const MEMORY_TMPDIR = "/dev/shm";
const COMMITTER = "Telemetry <telemetry@users.noreply.github.com>";
/**
 * The repack: `--aggressive` so that every delta is recomputed (a plain gc keeps fast-import's,
 * each version against the one before in stream order, which leaves a whole copy every 50 versions
 * and about twice the pack), at git's default delta window of 10 instead of aggressive's 250: on
 * these days 250 made the history's pack about 1% smaller (the squashed day's 18%) and took up to
 * ten times as long, past the quarter of an hour this run should take. One thread: the delta
 * search split between threads finds slightly different deltas from run to run.
 */
const DEFAULT_WINDOW = 10;

function gcArgs(window: number): string[] {
  return [
    "-c",
    `gc.aggressiveWindow=${window}`,
    "-c",
    "pack.threads=1",
    "gc",
    "--aggressive",
    "--prune=now",
    "--quiet",
  ];
}

export interface SizeRow {
  eventsPerDay: number;
  commitsPerDay: number;
  partsPerDay: number;
  /** The day's files as a clone checks them out: the sum of the parts' final sizes. */
  workingTreeMbPerDay: number;
  /** The pack of the day's history after gc: what keeping history costs a day. */
  packMbPerDayKept: number;
  /** The pack of one root commit of the day's final files after gc. */
  packMbPerDaySquashed: number;
  /** 365 days of history (extrapolated from one day). */
  yearKeptGb: number;
  /** 30 days of retention with history kept, after a year: the history still holds every removed day. */
  thirtyDaysRetentionKeptGb: number;
  /** 30 days of retention with the history squashed to one commit of the current tree. */
  thirtyDaysRetentionSquashedGb: number;
  /** Wall-clock time of the case: import, gc and the squashed measurement. */
  seconds: number;
}

function git(dir: string, args: string[]): string {
  return execFileSync("git", args, { cwd: dir, env: gitEnv(), encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
}

/** No user or system configuration: the same repack settings on every machine. */
function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    LC_ALL: "C",
  };
}

/** A commit as fed to fast-import: its date (ms into the day), message and the files it writes whole. */
interface ImportCommit {
  at: number;
  message: string;
  files: { path: string; content: Buffer }[];
}

/** Streams commits, each on top of the one before, to `refs/heads/main` of the bare repository at `dir` through one `git fast-import`. */
async function fastImport(dir: string, commits: Iterable<ImportCommit>): Promise<void> {
  const child = spawn("git", ["fast-import", "--quiet", "--date-format=raw"], {
    cwd: dir,
    env: gitEnv(),
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // A write after fast-import died fails with EPIPE; its exit code and message say why.
  child.stdin.on("error", () => {});
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  for (const commit of commits) {
    if (child.exitCode !== null) break;
    const date = `${Math.floor((DAY_START + commit.at) / 1000)} +0000`;
    child.stdin.write(
      `commit refs/heads/main\ncommitter ${COMMITTER} ${date}\ndata ${Buffer.byteLength(commit.message)}\n${commit.message}`,
    );
    let flowing = true;
    for (const file of commit.files) {
      child.stdin.write(`M 100644 inline ${file.path}\ndata ${file.content.length}\n`);
      flowing = child.stdin.write(file.content);
    }
    if (!flowing) await once(child.stdin, "drain");
  }
  child.stdin.end("done\n");
  const code = await closed;
  if (code !== 0) throw new Error(`git fast-import exited ${code}: ${stderr}`);
}

/** The pack's size in bytes after the repack, and that nothing was left loose. */
function packBytesAfterGc(dir: string, window: number): number {
  git(dir, gcArgs(window));
  const counts = Object.fromEntries(
    git(dir, ["count-objects", "-v"])
      .trim()
      .split("\n")
      .map((row) => row.split(": ") as [string, string]),
  );
  if (Number(counts.count) !== 0) throw new Error(`${counts.count} loose objects left after gc`);
  return Number(counts["size-pack"]) * 1024;
}

async function measureDay(base: string, eventsPerDay: number, window: number): Promise<SizeRow> {
  const started = performance.now();
  const dir = await mkdtemp(join(base, "telemetry-repo-size-"));
  try {
    const history = join(dir, "history.git");
    const squashed = join(dir, "squashed.git");
    for (const repo of [history, squashed])
      execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", repo], { env: gitEnv() });

    const partition = partitionOf(DAY, PREFIX);
    const finalParts = new Map<number, Buffer>();
    let commitsPerDay = 0;
    let stored = 0;
    let lastAt = 0;
    await fastImport(
      history,
      (function* (): Generator<ImportCommit> {
        for (const commit of commitsOfDay(DAY, eventsPerDay)) {
          commitsPerDay += 1;
          stored += commit.events;
          finalParts.set(commit.part, commit.content);
          lastAt = commit.at;
          yield {
            at: commit.at,
            message: `Append ${commit.events} telemetry event${commit.events === 1 ? "" : "s"} for ${DAY}\n`,
            files: [{ path: partPath(partition, commit.part), content: commit.content }],
          };
        }
      })(),
    );
    const imported = performance.now();
    const packKept = packBytesAfterGc(history, window);
    const repacked = performance.now();

    // The history once squashed: one root commit of the day's final files.
    const files = [...finalParts].map(([part, content]) => ({ path: partPath(partition, part), content }));
    await fastImport(squashed, [{ at: lastAt, message: "Squash the history\n", files }]);
    const packSquashed = packBytesAfterGc(squashed, window);

    const workingTreeBytes = [...finalParts.values()].reduce((total, content) => total + content.length, 0);
    const listed = git(history, ["ls-tree", "-r", "-l", "main"])
      .trim()
      .split("\n")
      .reduce((total, row) => total + Number(row.split(/\s+/)[3]), 0);
    if (listed !== workingTreeBytes) throw new Error(`the tree holds ${listed} bytes, the day ${workingTreeBytes}`);
    if (stored !== eventsPerDay) throw new Error(`${stored} events committed of ${eventsPerDay}`);
    const counted = Number(git(history, ["rev-list", "--count", "main"]).trim());
    if (counted !== commitsPerDay) throw new Error(`${counted} commits in the repository, ${commitsPerDay} made`);

    const mbKept = packKept / 1e6;
    const mbSquashed = packSquashed / 1e6;
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(
      `${eventsPerDay.toLocaleString("en-US")} events: import ${((imported - started) / 1000).toFixed(1)} s, ` +
        `gc ${((repacked - imported) / 1000).toFixed(1)} s, squashed ${((performance.now() - repacked) / 1000).toFixed(1)} s\n`,
    );
    return {
      eventsPerDay,
      commitsPerDay,
      partsPerDay: finalParts.size,
      workingTreeMbPerDay: workingTreeBytes / 1e6,
      packMbPerDayKept: mbKept,
      packMbPerDaySquashed: mbSquashed,
      yearKeptGb: (mbKept * DAYS_A_YEAR) / 1000,
      thirtyDaysRetentionKeptGb: (mbKept * DAYS_A_YEAR) / 1000,
      thirtyDaysRetentionSquashedGb: (mbSquashed * RETENTION_DAYS) / 1000,
      seconds,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One row a volume, each a day of its own in a temporary folder (in memory when /dev/shm exists). */
export async function repositorySizes(
  volumes: readonly number[] = VOLUMES,
  { window = DEFAULT_WINDOW }: { window?: number } = {},
): Promise<SizeRow[]> {
  const base = existsSync(MEMORY_TMPDIR) ? MEMORY_TMPDIR : tmpdir();
  const rows: SizeRow[] = [];
  for (const eventsPerDay of volumes) rows.push(await measureDay(base, eventsPerDay, window));
  return rows;
}

function table(rows: readonly SizeRow[]): string {
  const columns: [string, (row: SizeRow) => string][] = [
    ["events/day", (row) => row.eventsPerDay.toLocaleString("en-US")],
    ["commits/day", (row) => row.commitsPerDay.toLocaleString("en-US")],
    ["parts/day", (row) => String(row.partsPerDay)],
    ["tree MB/day", (row) => row.workingTreeMbPerDay.toFixed(2)],
    ["pack MB/day kept", (row) => row.packMbPerDayKept.toFixed(2)],
    ["pack MB/day squashed", (row) => row.packMbPerDaySquashed.toFixed(2)],
    ["year kept GB", (row) => row.yearKeptGb.toFixed(3)],
    ["30-day retention, kept: GB after a year", (row) => row.thirtyDaysRetentionKeptGb.toFixed(3)],
    ["30-day retention, squashed: GB", (row) => row.thirtyDaysRetentionSquashedGb.toFixed(3)],
    ["30-day tree GB", (row) => ((row.workingTreeMbPerDay * RETENTION_DAYS) / 1000).toFixed(3)],
    ["time", (row) => `${row.seconds.toFixed(1)} s`],
  ];
  return [
    `| ${columns.map(([name]) => name).join(" | ")} |`,
    `|${columns.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${columns.map(([, cell]) => cell(row)).join(" | ")} |`),
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Optional arguments: the volumes (events a day) to run, and --window=N for the repack's delta window.
  const args = process.argv.slice(2);
  const window = Number(args.find((arg) => arg.startsWith("--window="))?.slice("--window=".length) ?? DEFAULT_WINDOW);
  const volumes = args.filter((arg) => !arg.startsWith("--")).map(Number);
  const rows = await repositorySizes(volumes.length > 0 ? volumes : VOLUMES, { window });
  process.stdout.write(`${table(rows)}\n`);
  process.stdout.write(
    `Measured: one day (${DAY}) of commits at the flusher's pace, then \`${["git", ...gcArgs(window)].join(" ")}\`, size-pack; ` +
      `the squashed pack is one root commit of the day's final files after the same gc. ` +
      `Extrapolated: a year is 365 such days, 30 days of squashed retention 30 such packs. MB = 10^6 bytes, GB = 10^9.\n`,
  );
}
