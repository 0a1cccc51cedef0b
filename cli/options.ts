import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { systemClock } from "../lib/clock.ts";
import { addDays, dayOf, startOfDay } from "../lib/day.ts";
import { loadCliConfig, type Config } from "../lib/config.ts";
import type { DayTally } from "../lib/present/period-report.ts";
import type { RepositoryFiles } from "../lib/storage/repository-files.ts";
import { ROLLUPS_DIR } from "../lib/tally/day-rollup.ts";
import { LONGEST_READ_MS } from "../lib/tally/tally-days.ts";
import { dataSpan, type DataSpan } from "./data-span.ts";
import { EXIT_USAGE } from "./fail.ts";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
/** The default period: the last 30 days, today included. */
const DEFAULT_DAYS = 30;
/** The local store's folder, read by default (`telemetry pull` fills only the folder its --to names). */
const DEFAULT_DATA_DIR = ".telemetry-data";

export function day(value: string): string {
  const at = startOfDay(value);
  // Date.parse rolls 2026-11-31 over to 2026-12-01: only a day that reads back the same is one.
  if (!DAY.test(value) || Number.isNaN(at) || dayOf(at) !== value) {
    throw new InvalidArgumentError("expected a calendar day as YYYY-MM-DD");
  }
  return value;
}

export function repository(value: string): string {
  if (!REPOSITORY.test(value)) throw new InvalidArgumentError("expected OWNER/REPO");
  return value;
}

export const dataOption = () =>
  new Option("--data <dir>", "a local copy of the data repository (telemetry pull), or the local store's folder");
export const githubOption = () =>
  new Option(
    "--github <owner/repo>",
    "read the data repository on GitHub directly (GITHUB_TOKEN or the GitHub App settings)",
  )
    .argParser(repository)
    .conflicts("data");

/**
 * The data a command reads, `--github`, else `--data`, else the local store's folder: its configuration (the
 * storage set to what is read) and its files, opened as an instance of the service opens its repository;
 * `span`, the first and last days with files. Data that holds no day at all is an error (see requireData).
 */
export async function openData(
  command: Command,
  { data, github }: { data?: string; github?: string },
): Promise<{ files: RepositoryFiles; config: Config; dir?: string; span?: DataSpan }> {
  const loaded = loadCliConfig(github ? { repository: github } : {});
  if (github && loaded.storage.kind !== "github")
    command.error("error: --github needs GITHUB_TOKEN or the GitHub App settings", { exitCode: EXIT_USAGE });
  const dir = github ? undefined : dataDir(loaded, data);
  const config: Config = dir === undefined ? loaded : { ...loaded, storage: { kind: "local", dir } };
  // Octokit loads only for the commands that read the data.
  const { openRepository } = await import("../lib/storage/open-repository.ts");
  const { files } = openRepository(config, systemClock);
  const span = await requireData(files, config.pathPrefix, dir);
  return { files, config, ...(dir === undefined ? {} : { dir }), ...(span ? { span } : {}) };
}

/**
 * The span of the data's days. No NDJSON under the prefix (nor rollups, which outlive the raw files)
 * means the wrong folder or prefix, or nothing pulled yet: every figure would be a false zero, and an
 * export would answer an access request with nothing; so it is an error, in one line.
 */
async function requireData(files: RepositoryFiles, prefix: string, dir: string | undefined) {
  const deadline = systemClock.now() + LONGEST_READ_MS;
  const span = await dataSpan(files, prefix, deadline);
  if (span || (await files.list(ROLLUPS_DIR, { deadline })).some((entry) => entry.type === "dir")) return span;
  const where = dir === undefined ? `${files.describe()}:${prefix}` : join(dir, prefix);
  // The usual slip: --data naming the prefix's folder itself, which holds the years.
  const inside = dir !== undefined && prefix !== "" && (await dataSpan(files, "", deadline));
  const remedy =
    dir === undefined
      ? "check --github and TELEMETRY_PATH_PREFIX"
      : inside
        ? `${dir} itself holds the days: name the folder above it with --data`
        : "run telemetry pull first, or name the data folder with --data";
  throw new Error(`no NDJSON files under ${where}/ (TELEMETRY_PATH_PREFIX=${prefix}): ${remedy}`);
}

/**
 * Zeros are true for a period the data does not reach, but may surprise: stderr says so, and which
 * days the data holds.
 */
export function noteEmptyPeriod(
  { days, span, where }: { days: readonly unknown[]; span?: DataSpan; where: string },
  { from, to }: { from: string; to: string },
): void {
  if (days.length > 0) return;
  const held = span ? ` (${where} holds ${span.first} to ${span.last})` : "";
  process.stderr.write(`telemetry: no day from ${from} to ${to} has data: the figures are zeros${held}\n`);
}

/**
 * New installs count against the kept rollups before the period: days before it with files but no rollup
 * (not published yet, or pulled without rollups/) are not looked at, so an install seen only then would
 * look new. stderr names them.
 */
export function noteUnrolledDays(
  { span, before }: { span?: DataSpan; before: readonly DayTally[] },
  { from }: { from: string },
): void {
  const firstRollup = before[0]?.day ?? from;
  if (!span || span.first >= firstRollup) return;
  const last = span.last < firstRollup ? span.last : addDays(firstRollup, -1);
  const days = span.first === last ? `${last} has` : `${span.first} to ${last} have`;
  process.stderr.write(
    `telemetry: ${days} event files but no rollup: an install seen only then counts as new (telemetry publish writes their rollups)\n`,
  );
}

/** `--data`, else the local store's folder (where `npm start` puts the files); it must exist. */
function dataDir(config: Config, data: string | undefined): string {
  const dir = data ?? (config.storage.kind === "local" ? config.storage.dir : DEFAULT_DATA_DIR);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`no such folder: ${dir} (run telemetry pull first, or name one with --data)`);
  }
  return dir;
}

/** `--from` and `--to`, defaulting to the last 30 days (today, UTC, included). */
export function period(command: Command, { from, to }: { from?: string; to?: string }): { from: string; to: string } {
  const end = to ?? dayOf(new Date());
  const start = from ?? addDays(end, -(DEFAULT_DAYS - 1));
  if (start > end) command.error(`error: --from ${start} is after --to ${end}`, { exitCode: EXIT_USAGE });
  return { from: start, to: end };
}
