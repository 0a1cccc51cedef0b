import { Option, type Command } from "commander";
import { systemClock } from "../../lib/clock.ts";
import { formatReport, REPORT_FORMATS, type ReportFormat } from "../../lib/insights/format-report.ts";
import { periodReport } from "../../lib/insights/period-report.ts";
import { ROLLUPS_DIR } from "../../lib/insights/publish-insights.ts";
import { tallyDays } from "../../lib/insights/tally-days.ts";
import { reportMalformed } from "../malformed.ts";
import { dataOption, day, githubOption, openFiles, period } from "../options.ts";

export function registerReport(program: Command): Command {
  return program
    .command("report")
    .description("the dashboard's figures for a period, computed from the NDJSON files")
    .addOption(dataOption())
    .addOption(githubOption())
    .option("--from <day>", "first day, YYYY-MM-DD (default: 29 days before --to)", day)
    .option("--to <day>", "last day, YYYY-MM-DD (default: today, UTC)", day)
    .addOption(new Option("--format <format>", "output format").choices(REPORT_FORMATS).default("table"))
    .action(
      async (
        options: { data?: string; github?: string; from?: string; to?: string; format: ReportFormat },
        command: Command,
      ) => {
        const { from, to } = period(command, options);
        const { files, config } = openFiles(command, options);
        const read = await tallyDays(files, {
          prefix: config.pathPrefix,
          rollupsDir: ROLLUPS_DIR,
          from,
          to,
          clock: systemClock,
        });
        process.stdout.write(formatReport(periodReport(read.days, from, to), options.format));
        reportMalformed(read.malformed);
      },
    );
}
