import { InvalidArgumentError, type Command } from "commander";
import { systemClock } from "../../lib/clock.ts";
import { loadCliConfig } from "../../lib/config.ts";
import { LONGEST_READ_MS } from "../../lib/tally/tally-days.ts";
import { planRetention } from "../../lib/lifecycle/apply-retention.ts";
import { callJob } from "../site/call-job.ts";
import { DEFAULT_SITE, siteOf } from "../site/call-site.ts";
import { EXIT_USAGE } from "../fail.ts";
import { dataOption, githubOption, openData } from "../options.ts";

interface RetentionOptions {
  days?: number;
  dryRun?: boolean;
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
    .option(
      "--url <site>",
      `the site whose retention function runs it (default: DEPLOY_URL or URL, else ${DEFAULT_SITE})`,
    )
    .addOption(dataOption())
    .addOption(githubOption())
    .action(async (options: RetentionOptions, command: Command) => {
      if (!options.dryRun) {
        const config = loadCliConfig();
        for await (const run of callJob(siteOf(options.url, config), config.flushKey, "retention")) {
          process.stdout.write(`${JSON.stringify(run)}\n`);
        }
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
        `telemetry: would remove ${total} file(s) of ${plan.days.length} day(s) before ${plan.keep_from}${plan.pending ? " in this run (more in the next)" : ""}; rollups stay\n`,
      );
    });
}

function positive(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1) throw new InvalidArgumentError("expected a whole number of days, 1 or more");
  return days;
}
