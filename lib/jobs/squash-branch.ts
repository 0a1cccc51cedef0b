import type { RepositoryFiles } from "../storage/repository-files.ts";
import type { RecordWrite } from "./commit-under-lease.ts";

/**
 * The history replaced by one commit of the tree at `head` (TELEMETRY_HISTORY=squash), so that no
 * commit holds what a job removed. The caller holds the flusher's lease: nothing else commits
 * meanwhile, and its requests count against the same write pace.
 */
export async function squashBranch(
  files: RepositoryFiles,
  head: string,
  deadline: number,
  record: RecordWrite,
): Promise<string | undefined> {
  return files.squashHistory("Telemetry data: the history squashed to this commit (TELEMETRY_HISTORY=squash)", {
    deadline,
    expectedHead: head,
    beforeWrite: record,
  });
}
