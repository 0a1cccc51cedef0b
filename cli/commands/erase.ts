import type { Command } from "commander";
import { systemClock } from "../../lib/clock.ts";
import { loadCliConfig } from "../../lib/config.ts";
import { hwidForms } from "../../lib/events/hwid-forms.ts";
import { LONGEST_READ_MS } from "../../lib/tally/tally-days.ts";
import { planErasure } from "../../lib/lifecycle/plan-erasure.ts";
import { dataOption, githubOption, openData } from "../options.ts";
import { askErasure } from "../site/ask-erasure.ts";
import { DEFAULT_SITE, siteOf } from "../site/call-site.ts";

interface EraseOptions {
  hwid: string[];
  dryRun?: boolean;
  url?: string;
  data?: string;
  github?: string;
}

export function registerErase(program: Command): Command {
  return program
    .command("erase")
    .description(
      "erase every stored event of installs (an erasure request, through the site), or --dry-run to see which files and lines",
    )
    .requiredOption(
      "--hwid <id...>",
      "the install's id, as the client sends it (looked for as sent and hashed with the salts given)",
    )
    .option("--dry-run", "only list the files and lines that would go (reads --data or --github)")
    .option("--url <site>", `the site that does it (default: DEPLOY_URL or URL, else ${DEFAULT_SITE})`)
    .addOption(dataOption())
    .addOption(githubOption())
    .action(async (options: EraseOptions, command: Command) => {
      if (!options.dryRun) {
        const config = loadCliConfig();
        const site = siteOf(options.url, config);
        for (const hwid of options.hwid) {
          const status = await askErasure(site, { hwid, secret: config.ingest.secret, clock: systemClock });
          process.stdout.write(`${JSON.stringify(status)}\n`);
        }
        return;
      }
      const { files, config } = await openData(command, options);
      // Every form an install's lines may be stored under: as sent, hashed, hashed under the previous salt.
      const hwids = options.hwid.flatMap((hwid) => hwidForms(hwid, config.ingest, { operator: true }));
      const plan = await planErasure(files, {
        prefix: config.pathPrefix,
        hwids,
        deadline: systemClock.now() + LONGEST_READ_MS,
      });
      for (const file of plan.files) process.stdout.write(`${file.path}  ${file.removed} line(s)\n`);
      const total = plan.files.reduce((sum, file) => sum + file.removed, 0);
      process.stderr.write(
        `telemetry: would remove ${total} line(s) from ${plan.files.length} file(s), in one commit; the spool's waiting events of these installs too\n`,
      );
    });
}
