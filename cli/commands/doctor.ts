import type { Command } from "commander";
import { ConfigError, loadCliConfig } from "../../lib/config.ts";
import { diagnose } from "../diagnose.ts";
import { EXIT_FAILURE } from "../fail.ts";
import { githubOption } from "../options.ts";
import { DEFAULT_SITE, siteOf } from "../site/call-site.ts";

export function registerDoctor(program: Command): Command {
  return program
    .command("doctor")
    .description(
      "say what is wrong: the site and its health, the settings, what GitHub lets the credential do, the last flush and publish, the spool (a line each; exit 1 when any fails)",
    )
    .option("--url <site>", `the site (default: DEPLOY_URL or URL, else ${DEFAULT_SITE}, where npm start serves)`)
    .addOption(githubOption())
    .action(async (options: { url?: string; github?: string }) => {
      const config = loadedConfig(options.github);
      const site = options.url ?? (config instanceof ConfigError ? DEFAULT_SITE : siteOf(undefined, config));
      const checks = await diagnose(site, config);
      for (const check of checks) process.stdout.write(`${check.ok ? "✓" : "✗"} ${check.name}: ${check.detail}\n`);
      if (checks.some((check) => !check.ok)) process.exitCode = EXIT_FAILURE;
    });
}

/** The settings as the other commands read them; refused ones are the first thing doctor reports, not a reason to stop. */
function loadedConfig(github: string | undefined) {
  try {
    return loadCliConfig(github ? { repository: github } : {});
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}
