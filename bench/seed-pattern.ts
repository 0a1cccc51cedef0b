import { Octokit } from "@octokit/rest";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { ndjsonLine } from "../lib/storage/ndjson-line.ts";
import { partitionOf, partPath } from "../lib/storage/layout/partition.ts";

/**
 * The seeds' write path, for comparison: on every request read the day's file, append one line,
 * write it back (one commit per event), and answer 500 when any of it fails.
 */
export function seedPatternWriter(github: { url: string; token: string; owner: string; repo: string }) {
  const octokit = new Octokit({
    auth: github.token,
    baseUrl: github.url,
    log: { debug() {}, info() {}, warn() {}, error() {} },
  });
  return async (event: StoredEvent): Promise<number> => {
    const path = partPath(partitionOf(event.created_at, "telemetry"), 1);
    try {
      let text = "";
      let sha: string | undefined;
      try {
        const { data } = await octokit.rest.repos.getContent({ owner: github.owner, repo: github.repo, path });
        if (!Array.isArray(data) && data.type === "file") {
          text = Buffer.from(data.content, "base64").toString("utf8");
          sha = data.sha;
        }
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw error;
      }
      await octokit.rest.repos.createOrUpdateFileContents({
        owner: github.owner,
        repo: github.repo,
        path,
        message: "Add telemetry event",
        content: Buffer.from(text + ndjsonLine(event)).toString("base64"),
        ...(sha ? { sha } : {}),
      });
      return 201;
    } catch {
      return 500;
    }
  };
}
