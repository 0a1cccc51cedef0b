/**
 * The suite's shared set-up, as vitest fixtures: `import { test, describe, expect } from "./support/fixtures.ts"`
 * and name what a test needs in its first parameter (`test("…", async ({ serveGitHub, runtimeOf }) => …)`).
 *
 * - `logs` (every test, automatically): the service's log lines (lib/log.ts) are captured instead of printed;
 *   a test that expects a line asserts on `logs.of("event")`. A failing test prints what it captured.
 * - `blobs` (one per file): `@netlify/blobs`' own server over a temp folder.
 * - `spoolStore`: a store of its own on that server (named `spoolName`, for a child process), for one test.
 * - `serveGitHub(options)` / `serveGitGitHub(options)`: the in-memory fake GitHub, or the stand-in on a real
 *   bare repository, served on loopback for `acme/data` with `GITHUB_TOKEN`, and the `env` that points the
 *   service at it; each call serves a new one, all closed when the file's tests are done.
 * - `runtimeOf(env, options)`: a runtime of `loadConfig(env)` (`options.adjust`ed) over `spoolStore` (or
 *   `options.blobs`, with `options.clock`); throws if the configuration is refused.
 * - `tempDir(prefix)`: a fresh temp folder, removed when the file's tests are done.
 * - `days`: today (UTC, as the service names days) and the days before it, fixed for the file.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test as base } from "vitest";
import { loadConfig, type Config } from "../../lib/config.ts";
import { setLogSink, type LogLevel } from "../../lib/log.ts";
import { dashboardJobs } from "../../lib/lifecycle/dashboard-jobs.ts";
import { createRuntime, type Runtime, type RuntimeParts } from "../../lib/runtime.ts";
import { startBlobs } from "./blobs.ts";
import { FakeGitHub, serveFakeGitHub, type FakeGitHubOptions } from "./fake-github/index.ts";
import { GitGitHub, serveGitGitHub, type GitGitHubOptions } from "./git-github/index.ts";

export { describe, expect } from "vitest";

/** The token the served stand-ins take unless a test names another. */
const GITHUB_TOKEN = "fixture-github-token";
const DAY_MS = 86_400_000;

export interface LogLine {
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

export interface CapturedLogs {
  /** Every line the service logged during the test, parsed, in order. */
  readonly lines: LogLine[];
  /** The lines of one event. */
  of(event: string): LogLine[];
}

/** The variables that point the service at a served stand-in. */
export interface GitHubEnv {
  GITHUB_TOKEN: string;
  GITHUB_REPOSITORY: string;
  GITHUB_API_URL: string;
  [name: string]: string;
}

export interface Days {
  today: string;
  /** The day `n` days before today. */
  ago(n: number): string;
  /** The `n` days up to today, oldest first. */
  last(n: number): string[];
}

export type ReadyRuntime = Runtime & { ok: true };

export interface RuntimeOptions extends RuntimeParts {
  /** Changes what the environment cannot set (a test's own limits, say). */
  adjust?: (config: Config) => Config;
}

type Served<T> = { url: string; env: GitHubEnv } & T;

export const test = base
  .extend("logs", { auto: true }, async ({ onTestFailed }, { onCleanup }): Promise<CapturedLogs> => {
    const lines: LogLine[] = [];
    setLogSink((_level, line) => void lines.push(JSON.parse(line) as LogLine));
    onTestFailed(() => {
      for (const line of lines) console.error(JSON.stringify(line));
    });
    // A flush that outlives its test has nothing to tell the next one.
    onCleanup(() => setLogSink(() => {}));
    return { lines, of: (event) => lines.filter((line) => line.event === event) };
  })
  .extend("blobs", { scope: "file" }, async ({}, { onCleanup }) => {
    const blobs = await startBlobs();
    onCleanup(() => blobs.close());
    return blobs;
  })
  .extend("spoolName", () => `test-${randomUUID()}`)
  .extend("spoolStore", ({ blobs, spoolName }) => blobs.store(spoolName))
  .extend("tempDir", { scope: "file" }, async ({}, { onCleanup }) => {
    const made: string[] = [];
    onCleanup(async () => void (await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })))));
    return async (prefix = "telemetry-test-"): Promise<string> => {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    };
  })
  .extend("serveGitHub", { scope: "file" }, async ({}, { onCleanup }) => {
    const servers: { close(): Promise<void> }[] = [];
    onCleanup(async () => void (await Promise.all(servers.map((server) => server.close()))));
    return async (options: FakeGitHubOptions = {}): Promise<Served<{ fake: FakeGitHub }>> => {
      const fake = new FakeGitHub({ owner: "acme", repo: "data", token: GITHUB_TOKEN, ...options });
      const server = await serveFakeGitHub(fake);
      servers.push(server);
      return { fake, url: server.url, env: envOf(server.url, options.token ?? GITHUB_TOKEN) };
    };
  })
  .extend("serveGitGitHub", { scope: "file" }, async ({ tempDir }, { onCleanup }) => {
    const servers: { close(): Promise<void> }[] = [];
    onCleanup(async () => void (await Promise.all(servers.map((server) => server.close()))));
    return async (options: Partial<GitGitHubOptions> = {}): Promise<Served<{ stand: GitGitHub }>> => {
      const dir = join(await tempDir("telemetry-git-github-"), "data.git");
      const stand = new GitGitHub({ dir, owner: "acme", repo: "data", token: GITHUB_TOKEN, ...options });
      const server = await serveGitGitHub(stand);
      servers.push(server);
      return { stand, url: server.url, env: envOf(server.url, options.token ?? GITHUB_TOKEN) };
    };
  })
  .extend("runtimeOf", async ({ spoolStore }) => {
    return (
      env: Record<string, string>,
      { adjust = (config) => config, ...parts }: RuntimeOptions = {},
    ): ReadyRuntime => {
      const runtime = createRuntime(adjust(loadConfig(env)), { blobs: spoolStore, jobs: dashboardJobs, ...parts });
      if (!runtime.ok) throw new Error(`not configured: ${JSON.stringify(runtime)}`);
      return runtime;
    };
  })
  .extend("days", { scope: "file" }, (): Days => {
    const today = new Date().toISOString().slice(0, 10);
    const ago = (n: number) => new Date(Date.parse(`${today}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);
    return { today, ago, last: (n) => Array.from({ length: n }, (_, i) => ago(n - 1 - i)) };
  });

export const it = test;

function envOf(url: string, token: string): GitHubEnv {
  return { GITHUB_TOKEN: token, GITHUB_REPOSITORY: "acme/data", GITHUB_API_URL: url };
}
