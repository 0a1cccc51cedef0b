import { Option, type Command } from "commander";
import { formatReport, REPORT_FORMATS, type ReportFormat } from "../../lib/present/format-report.ts";
import { GRAINS, type Grain } from "../../lib/present/group-days.ts";
import { periodReport } from "../../lib/present/period-report.ts";
import { reportMalformed } from "../malformed.ts";
import { dataOption, day, githubOption, noteEmptyPeriod, period } from "../options.ts";
import { readDays } from "../read-days.ts";

interface ReportOptions {
  data?: string;
  github?: string;
  from?: string;
  to?: string;
  format: ReportFormat;
  by?: Grain;
}

export function registerReport(program: Command): Command {
  return program
    .command("report")
    .description("the dashboard's figures for a period, computed from the NDJSON files")
    .addOption(dataOption())
    .addOption(githubOption())
    .option("--from <day>", "first day, YYYY-MM-DD (default: 29 days before --to)", day)
    .option("--to <day>", "last day, YYYY-MM-DD (default: today, UTC)", day)
    .addOption(new Option("--format <format>", "output format").choices(REPORT_FORMATS).default("table"))
    .addOption(
      new Option(
        "--by <grain>",
        "a row of days a day, ISO week or month (default: days up to 62 days, weeks up to 366)",
      ).choices(GRAINS),
    )
    .action(async (options: ReportOptions, command: Command) => {
      const { from, to } = period(command, options);
      const read = await readDays(command, options, from, to);
      process.stdout.write(formatReport(periodReport(read.days, from, to, options.by), options.format));
      await noteEmptyPeriod(command, options, read, { from, to });
      reportMalformed(read.malformed);
    });
}
