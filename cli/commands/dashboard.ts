import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { addDays, dayOf } from "../../lib/day.ts";
import { PERIOD_DAYS, renderDashboard } from "../../lib/present/render-dashboard.ts";
import { reportMalformed } from "../malformed.ts";
import { dataOption, day, githubOption, noteEmptyPeriod } from "../options.ts";
import { readDays } from "../read-days.ts";

interface DashboardOptions {
  out: string;
  data?: string;
  github?: string;
  to?: string;
}

export function registerDashboard(program: Command): Command {
  return program
    .command("dashboard")
    .description("render the dashboard (README.md, SVG charts, model-registry.json) into a folder")
    .requiredOption("--out <dir>", "the folder to write it to")
    .addOption(dataOption())
    .addOption(githubOption())
    .option("--to <day>", "the last day shown, YYYY-MM-DD (default: today, UTC)", day)
    .action(async (options: DashboardOptions, command: Command) => {
      const today = options.to ?? dayOf(new Date());
      const from = addDays(today, -(2 * PERIOD_DAYS - 1));
      const read = await readDays(command, options, from, today);
      noteEmptyPeriod(read, { from, to: today });
      const rendered = await renderDashboard(read.days, { today, updatedAt: new Date().toISOString() });
      await mkdir(options.out, { recursive: true });
      for (const file of rendered.files) await writeFile(join(options.out, file.name), file.content);
      process.stderr.write(
        `telemetry: wrote ${rendered.files.map((file) => file.name).join(", ")} to ${options.out}\n`,
      );
      reportMalformed(read.malformed);
    });
}
