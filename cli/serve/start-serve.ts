import { systemClock } from "../../lib/clock.ts";
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { dayOf } from "../../lib/day.ts";
import { Explorer } from "../../lib/explore/explorer.ts";
import type { Config } from "../../lib/config.ts";
import type { PeriodReader } from "../../lib/explore/explorer.ts";
import type { RepositoryFiles } from "../../lib/storage/repository-files.ts";
import { healthCheck, lastFlushCheck, readSiteHealth, spoolCheck } from "../site/check-site.ts";
import { duckdbLines } from "./duckdb-lines.ts";
import { cachedPeriodFiles, localPeriodFiles } from "./period-files.ts";
import { ReadProgress } from "./read-progress.ts";
import { serveHttp } from "./serve-http.ts";

/** An address only this machine reaches. */
const LOOPBACK = /^(127\.|::1$|localhost$)/;

interface StartOptions {
  port: number;
  host: string;
  /** With GitHub's files: where a filter's raw files are downloaded. */
  cache: string;
  /** The site whose ingest state the page shows. */
  site?: string;
}

/**
 * The interactive dashboard over opened data, listening: its figures read by `readDays` (as the report reads
 * them), a filter's lines from the files on disk (a local folder's, or GitHub's downloaded into `cache`).
 * Gives its URL.
 */
export async function startServe(
  opened: { files: RepositoryFiles; config: Config; dir?: string },
  readDays: PeriodReader,
  { port, host, cache, site }: StartOptions,
): Promise<string> {
  const progress = new ReadProgress();
  const prefix = opened.config.pathPrefix;
  const filesOf =
    opened.dir === undefined
      ? cachedPeriodFiles(opened.files, { cache, prefix, progress })
      : localPeriodFiles(opened.files, { dir: opened.dir, prefix });
  const read: PeriodReader = async (from, to) => {
    if (opened.dir === undefined) return readDays(from, to);
    const bytes = (await filesOf(from, to)).reduce((sum, file) => sum + file.size, 0);
    return progress.during(bytes, () => readDays(from, to));
  };
  const explorer = new Explorer(read, duckdbLines(filesOf, progress), () => dayOf(systemClock.now()));
  const server = serveHttp({ explorer, progress, ...(site && { ingest: () => ingestState(site) }) });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`${host}:${port} is in use: name another --port, or --port 0 for any free one`)
          : error,
      ),
    );
    server.listen(port, host, resolve);
  });
  const { address, port: bound } = server.address() as AddressInfo;
  if (!LOOPBACK.test(host))
    process.stderr.write(`telemetry: serving on ${host}: whoever reaches it sees the figures and raw lines\n`);
  // Every interface (0.0.0.0, ::) is no address to open: this machine's loopback is one of them.
  const shown = address === "0.0.0.0" ? "127.0.0.1" : address === "::" ? "::1" : address;
  return `http://${shown.includes(":") ? `[${shown}]` : shown}:${bound}/`;
}

/** The site's health as doctor reads it: a line each for the site, health, last flush and spool. */
async function ingestState(site: string) {
  const { site: reached, health } = await readSiteHealth(site, undefined);
  if (!health) return { checks: [reached] };
  const checks = [reached, healthCheck(health), lastFlushCheck(health, systemClock.now()), spoolCheck(health)];
  return { checks: checks.filter((check) => check !== undefined) };
}

/** The system's browser, if it has one: without one the URL printed is the way in. */
export function openBrowser(url: string): void {
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(opener, [url], { stdio: "ignore", detached: true });
  child.on("error", () => process.stderr.write(`telemetry: no browser to open (${opener}): open ${url}\n`));
  child.unref();
}
