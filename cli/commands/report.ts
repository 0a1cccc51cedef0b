import { Option, type Command } from "commander";
import { formatReport, REPORT_FORMATS, type ReportFormat } from "../../lib/present/format-report.ts";
import { GRAINS, type Grain } from "../../lib/present/group-days.ts";
import { periodReport } from "../../lib/present/period-report.ts";
import { reportMalformed } from "../malformed.ts";
import { dataOption, day, githubOption, noteEmptyPeriod, noteUnrolledDays, period } from "../options.ts";
import { EXIT_FAILURE } from "../fail.ts";
import { checkRollups, readDays } from "../read-days.ts";

interface ReportOptions {
  data?: string;
  github?: string;
  from?: string;
  to?: string;
  format: ReportFormat;
  by?: Grain;
  verify?: boolean;
}

export function registerReport(program: Command): Command {
  return program
    .command("report")
    .description(
      "the dashboard's figures for a period: from the rollups where current (--github), else the NDJSON files",
    )
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
    .option("--verify", "recount every day from its raw files and name each figure where a rollup disagrees (exit 1)")
    .action(async (options: ReportOptions, command: Command) => {
      const { from, to } = period(command, options);
      if (options.verify) {
        const { days, differences } = await checkRollups(command, options, from, to);
        for (const line of differences) process.stdout.write(`${line}\n`);
        if (days === 0) {
          // A check of nothing is no pass.
          process.stderr.write(
            `telemetry: no day from ${from} to ${to} has a rollup to verify (the hourly job writes them: telemetry publish runs it now)\n`,
          );
          process.exitCode = EXIT_FAILURE;
        } else if (differences.length > 0) process.exitCode = EXIT_FAILURE;
        else process.stdout.write(`rollups agree with the raw files for ${days} day${days === 1 ? "" : "s"}\n`);
        return;
      }
      const read = await readDays(command, options, from, to, { before: true });
      const report = periodReport([...read.before, ...read.days], from, to, options.by);
      process.stdout.write(formatReport(report, options.format));
      noteEmptyPeriod(read, { from, to });
      noteUnrolledDays(read, { from });
      reportMalformed(read.malformed);
    });
}
