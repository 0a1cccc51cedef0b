import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type { Command } from "commander";
import { systemClock } from "../../lib/clock.ts";
import { hwidForms } from "../../lib/events/hwid-forms.ts";
import { exportInstall } from "../../lib/lifecycle/export-install.ts";
import { SPOOL_STORE_NAME, spoolBlobs } from "../../lib/platform/spool-blobs.ts";
import { Quarantine } from "../../lib/spool/quarantine.ts";
import { LONGEST_READ_MS } from "../../lib/tally/tally-days.ts";
import { dataOption, githubOption, openData } from "../options.ts";

interface ExportOptions {
  hwid: string[];
  out?: string;
  data?: string;
  github?: string;
}

export function registerExport(program: Command): Command {
  return program
    .command("export")
    .description("every stored event of an install, as NDJSON (an access request): from every day and part")
    .requiredOption(
      "--hwid <id...>",
      "the install's id, as the client sends it (looked for as sent and hashed with the salts given)",
    )
    .option("--out <file>", "write to this file instead of stdout")
    .addOption(dataOption())
    .addOption(githubOption())
    .action(async (options: ExportOptions, command: Command) => {
      const { files, config } = await openData(command, options);
      // Every form an install's lines may be stored under: as sent, hashed, hashed under the previous salt.
      const hwids = options.hwid.flatMap((hwid) => hwidForms(hwid, config.ingest, { operator: true }));
      const quarantine = await openQuarantine();
      const out = options.out ? createWriteStream(options.out) : process.stdout;
      const summary = await exportInstall(
        files,
        { prefix: config.pathPrefix, hwids, deadline: systemClock.now() + LONGEST_READ_MS, quarantine },
        async (line) => {
          if (!out.write(line)) await once(out, "drain");
        },
      );
      if (options.out) {
        out.end();
        await finished(out);
      }
      const quarantined = quarantine ? ` and ${summary.quarantined} quarantined event(s)` : "";
      process.stderr.write(
        `telemetry: ${summary.lines} event(s)${quarantined} of the ${options.hwid.length} install(s) asked for, from ${summary.files} file(s)${options.out ? ` written to ${options.out}` : ""}\n`,
      );
      if (!quarantine) process.stderr.write(`telemetry: the spool's quarantine not read: ${NO_BLOBS}\n`);
    });
}

const NO_BLOBS =
  'no Netlify Blobs context (NETLIFY_BLOBS_CONTEXT, as netlify dev gives functions, or base64 of {"siteID","token"})';

/** The site's spool quarantine, where the environment gives @netlify/blobs a context to reach it. */
async function openQuarantine(): Promise<Quarantine | undefined> {
  const quarantine = new Quarantine(spoolBlobs("site", SPOOL_STORE_NAME), systemClock);
  try {
    await quarantine.page();
    return quarantine;
  } catch (error) {
    if (error instanceof Error && error.name === "MissingBlobsEnvironmentError") return undefined;
    throw error;
  }
}
