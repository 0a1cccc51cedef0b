import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type { Command } from "commander";
import { systemClock } from "../../lib/clock.ts";
import { pseudonymizeHwid } from "../../lib/events/pseudonymize-hwid.ts";
import { exportInstall } from "../../lib/lifecycle/export-install.ts";
import { LONGEST_READ_MS } from "../../lib/tally/tally-days.ts";
import { dataOption, githubOption, openData } from "../options.ts";

interface ExportOptions {
  hwid: string[];
  out?: string;
  data?: string;
  github?: string;
}

export function registerExport(program: Command): Command {
  return program
    .command("export")
    .description("every stored event of an install, as NDJSON (an access request): from every day and part")
    .requiredOption(
      "--hwid <id...>",
      "the install's id, as the client sends it (hashed here when TELEMETRY_HWID_MODE=hash)",
    )
    .option("--out <file>", "write to this file instead of stdout")
    .addOption(dataOption())
    .addOption(githubOption())
    .action(async (options: ExportOptions, command: Command) => {
      const { files, config } = await openData(command, options);
      const { hwidMode, hwidSalt } = config.ingest;
      const hwids = options.hwid.map((hwid) => pseudonymizeHwid(hwid, hwidMode, hwidSalt));
      const out = options.out ? createWriteStream(options.out) : process.stdout;
      const summary = await exportInstall(
        files,
        { prefix: config.pathPrefix, hwids, deadline: systemClock.now() + LONGEST_READ_MS },
        async (line) => {
          if (!out.write(line)) await once(out, "drain");
        },
      );
      if (options.out) {
        out.end();
        await finished(out);
      }
      process.stderr.write(
        `telemetry: ${summary.lines} event(s) of ${options.hwid.length} install(s) from ${summary.files} file(s)${options.out ? ` written to ${options.out}` : ""}\n`,
      );
    });
}
