import type { Command } from "commander";
import { loadCliConfig } from "../../lib/config.ts";
import { callJob } from "../../lib/lifecycle/call-job.ts";

const DEFAULT_SITE = "http://localhost:8888";

export function registerPublish(program: Command): Command {
  return program
    .command("publish")
    .description(
      "run the hourly job now: roll up what changed and commit the rollups and dashboard (calls the site's publish function)",
    )
    .option("--url <site>", `the site (default: DEPLOY_URL or URL, else ${DEFAULT_SITE}, where npm start serves)`)
    .action(async (options: { url?: string }) => {
      const config = loadCliConfig();
      const site = options.url ?? config.siteUrl ?? DEFAULT_SITE;
      for await (const run of callJob(site, config.flushKey, "publish")) {
        process.stdout.write(`${JSON.stringify(run)}\n`);
      }
    });
}
