import type { Command } from "commander";
import { loadCliConfig } from "../../lib/config.ts";
import { callJob } from "../site/call-job.ts";
import { DEFAULT_SITE, siteOf } from "../site/call-site.ts";

export function registerPublish(program: Command): Command {
  return program
    .command("publish")
    .description(
      "run the hourly job now: roll up what changed and commit the rollups and dashboard (calls the site's publish function)",
    )
    .option("--url <site>", `the site (default: DEPLOY_URL or URL, else ${DEFAULT_SITE}, where npm start serves)`)
    .action(async (options: { url?: string }) => {
      const config = loadCliConfig();
      for await (const run of callJob(siteOf(options.url, config), config.flushKey, "publish")) {
        process.stdout.write(`${JSON.stringify(run)}\n`);
      }
    });
}
