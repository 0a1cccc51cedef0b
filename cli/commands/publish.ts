import type { Command } from "commander";
import { loadCliConfig } from "../../lib/config.ts";
import type { PublishReport } from "../../lib/insights/publish-insights.ts";
import { EXIT_FAILURE } from "../fail.ts";
import { callJob } from "../site/call-job.ts";
import { DEFAULT_SITE, siteOf } from "../site/call-site.ts";
import { publishSummary, runLine } from "../site/run-line.ts";

export function registerPublish(program: Command): Command {
  return program
    .command("publish")
    .description(
      "run the hourly job now: roll up what changed and commit the rollups and dashboard (calls the site's publish function)",
    )
    .option("--url <site>", `the site (default: DEPLOY_URL or URL, else ${DEFAULT_SITE}, where npm start serves)`)
    .option("--json", "print each run's report as a JSON line, for scripts")
    .action(async (options: { url?: string; json?: boolean }) => {
      const config = loadCliConfig();
      const runs: PublishReport[] = [];
      for await (const run of callJob(siteOf(options.url, config), config.flushKey, "publish")) {
        process.stdout.write(`${options.json ? JSON.stringify(run) : runLine(run)}\n`);
        runs.push(run);
      }
      const summary = publishSummary(runs);
      process.stderr.write(`${summary.line}\n`);
      if (summary.failed) process.exitCode = EXIT_FAILURE;
    });
}
