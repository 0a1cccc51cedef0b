import { resolve } from "node:path";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { EventStore } from "./event-store.ts";
import { GitHubAdapter } from "./github/github-adapter.ts";
import { GitHubFiles } from "./github/github-files.ts";
import { GitHubStore } from "./github/github-store.ts";
import { LocalFiles } from "./local/local-files.ts";
import { LocalStore } from "./local/local-store.ts";
import type { RepositoryFiles } from "./repository-files.ts";
import { GitHubIssues, type RepositoryIssues } from "./repository-issues.ts";

/** The data repository as one instance uses it: the flusher's store and the read path's files, on one adapter. */
export interface Repository {
  store: EventStore;
  files: RepositoryFiles;
  /** The repository's issues, where the hourly job's alerts go; none for the local folder. */
  issues: RepositoryIssues | undefined;
}

/**
 * The data repository of `config`, for one instance (a function's, or the CLI's): on GitHub, one
 * adapter (one client, one rate-limit gate) under the store, the files and the issues; else the local folder.
 */
export function openRepository(config: Config, clock: Clock): Repository {
  const { storage, pathPrefix, maxFileBytes } = config;
  if (storage.kind === "local") {
    const dir = resolve(storage.dir);
    return { store: new LocalStore(dir, pathPrefix, maxFileBytes), files: new LocalFiles(dir), issues: undefined };
  }
  const github = new GitHubAdapter(storage.github, clock);
  return {
    // Behind the spool, a rate limit stops the flush and is recorded for all instances; waiting would hold the lease idle.
    store: new GitHubStore(github, pathPrefix, maxFileBytes, { waitOnRateLimit: !config.spool.enabled }),
    files: new GitHubFiles(github),
    issues: new GitHubIssues(github),
  };
}
