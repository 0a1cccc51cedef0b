import { join } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { dataOption, githubOption, openData } from "../options.ts";
import { readDays } from "../read-days.ts";
import { openBrowser, startServe } from "../serve/start-serve.ts";

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
    .option("--port <port>", "the port (0: any free one)", port, DEFAULT_PORT)
    .option("--host <host>", "the address to listen on: loopback only, unless another is named", LOOPBACK)
    .option("--open", "open the page in the system's browser")
    .option(
      "--cache <dir>",
      `with --github: where a filter's raw files are downloaded, only those that changed (default: ${CACHE_DIR}/OWNER/REPO)`,
    )
    .option("--url <site>", "the telemetry site whose ingest state (last flush, spool, health) the page shows")
    .action(async (options: ServeOptions, command: Command) => {
      const opened = await openData(command, options);
      // Each period is read as `telemetry report` reads it, the data opened again (it may have grown).
      const read = (from: string, to: string) => readDays(command, options, from, to, { before: true });
      const url = await startServe(opened, read, {
        port: options.port,
        host: options.host,
        cache: options.cache ?? join(CACHE_DIR, options.github ?? ""),
        ...(options.url && { site: options.url }),
      });
      process.stdout.write(`telemetry serve: ${url} (Ctrl-C stops it)\n`);
      if (options.open) openBrowser(url);
    });
}

function port(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) throw new InvalidArgumentError("expected a port, 0 to 65535");
  return number;
}
