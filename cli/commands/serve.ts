import { spawn } from "node:child_process";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { InvalidArgumentError, type Command } from "commander";
import { dayOf } from "../../lib/day.ts";
import { Explorer } from "../../lib/explore/explorer.ts";
import { dataOption, githubOption, openData } from "../options.ts";
import { readOpened } from "../read-days.ts";
import { duckdbLines } from "../serve/duckdb-lines.ts";
import { cachedPeriodFiles, localPeriodFiles } from "../serve/period-files.ts";
import { ReadProgress } from "../serve/read-progress.ts";
import { serveHttp } from "../serve/serve-http.ts";
import { healthCheck, lastFlushCheck, readSiteHealth, spoolCheck } from "../site/check-site.ts";

const DEFAULT_PORT = 8787;
/** Loopback only, unless --host says otherwise: the page shows what the data holds. */
const LOOPBACK = "127.0.0.1";
/** Where --github's raw files are downloaded for a filter, a folder a repository. */
const CACHE_DIR = ".telemetry-serve-cache";

interface ServeOptions {
  data?: string;
  github?: string;
  port: number;
  host: string;
  open?: boolean;
  url?: string;
  cache?: string;
}

export function registerServe(program: Command): Command {
  return program
    .command("serve")
    .description(
      "serve an interactive dashboard on this machine: the report's figures, filtered, charted, drilled into",
    )
    .addOption(dataOption())
    .addOption(githubOption())
    .option("--port <port>", `the port (0: any free one)`, port, DEFAULT_PORT)
    .option("--host <host>", "the address to listen on (default: loopback only)", LOOPBACK)
    .option("--open", "open the page in the system's browser")
    .option(
      "--cache <dir>",
      `with --github: where a filter's raw files are downloaded, only those that changed (default: ${CACHE_DIR}/OWNER/REPO)`,
    )
    .option("--url <site>", "the telemetry site whose ingest state (last flush, spool, health) the page shows")
    .action(async (options: ServeOptions, command: Command) => {
      const opened = await openData(command, options);
      const progress = new ReadProgress();
      const prefix = opened.config.pathPrefix;
      const filesOf =
        opened.dir === undefined
          ? cachedPeriodFiles(opened.files, {
              cache: options.cache ?? join(CACHE_DIR, options.github!),
              prefix,
              progress,
            })
          : localPeriodFiles(opened.files, { dir: opened.dir, prefix });
      const lines = duckdbLines(filesOf, progress);
      const read = async (from: string, to: string) => {
        if (opened.dir === undefined) return readOpened(opened, from, to);
        const bytes = (await filesOf(from, to)).reduce((sum, file) => sum + file.size, 0);
        return progress.during(bytes, () => readOpened(opened, from, to));
      };
      const explorer = new Explorer(read, lines, () => dayOf(new Date()));
      const site = options.url;
      const server = serveHttp({ explorer, progress, ...(site && { ingest: () => ingestState(site) }) });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port, options.host, resolve);
      });
      const { address, port: bound } = server.address() as AddressInfo;
      const url = `http://${address.includes(":") ? `[${address}]` : address}:${bound}/`;
      process.stdout.write(`telemetry serve: ${url} (Ctrl-C stops it)\n`);
      if (!/^(127\.|::1$|localhost$)/.test(options.host))
        process.stderr.write(
          `telemetry: serving on ${options.host}: whoever reaches it sees the figures and raw lines\n`,
        );
      if (options.open) openBrowser(url);
    });
}

function port(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) throw new InvalidArgumentError("expected a port, 0 to 65535");
  return number;
}

/** The site's health as doctor reads it: a line each for the site, health, last flush and spool. */
async function ingestState(site: string) {
  const { site: reached, health } = await readSiteHealth(site, undefined);
  if (!health) return { checks: [reached] };
  const checks = [reached, healthCheck(health), lastFlushCheck(health, Date.now()), spoolCheck(health)];
  return { checks: checks.filter((check) => check !== undefined) };
}

/** The system's browser, if it has one: without one the URL printed is the way in. */
function openBrowser(url: string): void {
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(opener, [url], { stdio: "ignore", detached: true });
  child.on("error", () => process.stderr.write(`telemetry: no browser to open (${opener}): open ${url}\n`));
  child.unref();
}
