import { InvalidArgumentError, type Command } from "commander";
import { systemClock } from "../../lib/clock.ts";
import { loadCliConfig } from "../../lib/config.ts";
import { LONGEST_READ_MS } from "../../lib/tally/tally-days.ts";
import { planRetention, type RetentionReport } from "../../lib/lifecycle/apply-retention.ts";
import { callJob } from "../site/call-job.ts";
import { DEFAULT_SITE, siteOf } from "../site/call-site.ts";
import { runLine } from "../site/run-line.ts";
import { EXIT_USAGE } from "../fail.ts";
import { dataOption, githubOption, openData } from "../options.ts";

interface RetentionOptions {
  days?: number;
  dryRun?: boolean;
  json?: boolean;
  url?: string;
  data?: string;
  github?: string;
}

export function registerRetention(program: Command): Command {
  return program
    .command("retention")
    .description("remove raw files past the retention period (the daily job, now), or --dry-run to see what would go")
    .option("--days <n>", "days kept, today included (default: TELEMETRY_RETENTION_DAYS)", positive)
    .option("--dry-run", "only list the days and files that would go")
    .option("--json", "print each run's report as a JSON line, for scripts (without --dry-run)")
    .option(
      "--url <site>",
      `the site whose retention function runs it (default: DEPLOY_URL or URL, else ${DEFAULT_SITE})`,
    )
    .addOption(dataOption())
    .addOption(githubOption())
    .action(async (options: RetentionOptions, command: Command) => {
      if (!options.dryRun) {
        // The site's own setting decides how long data is kept: a caller holding the jobs' key may not shorten it.
        if (options.days !== undefined)
          command.error(
            "error: --days is for --dry-run: the site's job keeps the days its own TELEMETRY_RETENTION_DAYS sets (change it there)",
            { exitCode: EXIT_USAGE },
          );
        const config = loadCliConfig();
        process.exitCode = await callRetention(siteOf(options.url, config), config.flushKey, options.json ?? false);
        return;
      }
      const { files, config } = await openData(command, options);
      const keepDays = options.days ?? config.retentionDays;
      if (keepDays === undefined)
        command.error("error: name the days kept with --days, or set TELEMETRY_RETENTION_DAYS", {
          exitCode: EXIT_USAGE,
        });
      const plan = await planRetention(files, {
        prefix: config.pathPrefix,
        keepDays: keepDays,
        clock: systemClock,
        deadline: systemClock.now() + LONGEST_READ_MS,
      });
      for (const day of plan.days)
        process.stdout.write(`${day.day}  ${day.files.length} file(s)  ${(day.bytes / 1e6).toFixed(1)} MB\n`);
      const total = plan.days.reduce((sum, d) => sum + d.files.length, 0);
      process.stderr.write(
        `telemetry: would remove ${total} file(s) of ${plan.days.length} day(s) before ${plan.keep_from}${plan.pending > 0 ? ` in this run (${plan.pending} more day(s) in the next)` : ""}${plan.waiting.length > 0 ? `; ${plan.waiting.length} day(s) wait for their rollups` : ""}; rollups stay\n`,
      );
    });
}

/**
 * Calls the site's retention until nothing is pending: a line a run on stdout (with `json`, its
 * report, and a line of progress on stderr, rewritten in place on a terminal), and at the end what
 * was removed and what is left; exit status 1 when days past the period are left that a run could
 * have removed.
 */
async function callRetention(site: string, key: string | undefined, json: boolean): Promise<number> {
  const done = { days: 0, files: 0 };
  let last: RetentionReport | null = null;
  const progress = json && process.stderr.isTTY;
  for await (const run of callJob(site, key, "retention")) {
    if (json) process.stdout.write(`${JSON.stringify(run)}\n`);
    else if (run) process.stdout.write(`${runLine(run)}\n`);
    last = run;
    if (!run) break;
    done.days += run.days.length;
    done.files += run.days.reduce((sum, d) => sum + d.files.length, 0);
    const line = `telemetry: retention: ${done.days} day(s) removed (${done.files} file(s)), ${run.pending} to go`;
    if (json) process.stderr.write(progress ? `\r${line}` : `${line}\n`);
  }
  if (progress) process.stderr.write("\n");
  if (!last) {
    process.stderr.write("telemetry: the site keeps every day (TELEMETRY_RETENTION_DAYS is not set there)\n");
    return 0;
  }
  const waiting = last.waiting.length
    ? `; ${last.waiting.length} day(s) wait for their rollups (${last.waiting.join(", ")}): a later run removes them`
    : "";
  const left =
    last.pending > 0 || last.error
      ? `; ${last.pending} day(s) left: the last run ended ${last.outcome}${last.error ? ` (${last.error})` : ""}, run it again`
      : "";
  process.stderr.write(
    `telemetry: removed ${done.files} file(s) of ${done.days} day(s) before ${last.keep_from}${waiting}${left}\n`,
  );
  return left ? 1 : 0;
}

function positive(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1) throw new InvalidArgumentError("expected a whole number of days, 1 or more");
  return days;
}
