import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { systemClock } from "../../lib/clock.ts";
import { pullRepository, type PullProgress } from "../pull-repository.ts";
import { ROLLUPS_DIR } from "../../lib/tally/day-rollup.ts";
import { openData, repository } from "../options.ts";

export function registerPull(program: Command): Command {
  return (
    program
      .command("pull")
      .description(
        "mirror the data repository's NDJSON files and rollups into a local folder, downloading only what changed",
      )
      .requiredOption(
        "--github <owner/repo>",
        "the data repository (GITHUB_TOKEN or the GitHub App settings; GITHUB_API_URL honoured)",
        repository,
      )
      // Never the local store's folder by default: pull mirrors into a folder of its own.
      .requiredOption(
        "--to <dir>",
        "the local folder to mirror into (pull removes only the files it wrote there, listed in its .telemetry-pull.json)",
      )
      .action(async (options: { github: string; to: string }, command: Command) => {
        const { files, config } = await openData(command, { github: options.github });
        const { to } = options;
        const bar = process.stderr.isTTY
          ? new SingleBar({ format: "pull [{bar}] {value}/{total} files {mb} MB", stream: process.stderr })
          : undefined;
        const onProgress = ({ total, done, bytes }: PullProgress) => {
          if (!bar) return;
          if (done === 0) bar.start(total, 0, { mb: "0.0" });
          else bar.update(done, { mb: (bytes / 1e6).toFixed(1) });
        };
        const summary = await pullRepository(files, to, {
          folders: [config.pathPrefix, ROLLUPS_DIR],
          clock: systemClock,
          onProgress,
        }).finally(() => bar?.stop());
        process.stderr.write(
          `telemetry: pulled ${options.github} into ${to}: ${summary.downloaded} downloaded (${(summary.bytes / 1e6).toFixed(1)} MB), ` +
            `${summary.unchanged} unchanged, ${summary.removed} removed, ${summary.files} files\n`,
        );
      })
  );
}
