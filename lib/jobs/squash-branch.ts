import type { RepositoryFiles } from "../storage/repository-files.ts";
import type { CheckLease, RecordWrite } from "./commit-under-lease.ts";

/**
 * The history replaced by one commit of the branch's tree (TELEMETRY_HISTORY=squash), so that no
 * commit holds what a job removed; the branch must still hold `head` (the job's commit; undefined:
 * whatever it holds). The caller holds the flusher's lease, checked again before the branch is
 * forced (`check`), and its requests count against the same write pace.
 */
export async function squashBranch(
  files: RepositoryFiles,
  head: string | undefined,
  deadline: number,
  { record, check }: { record: RecordWrite; check: CheckLease },
): Promise<string | undefined> {
  return files.squashHistory("Telemetry data: the history squashed to this commit (TELEMETRY_HISTORY=squash)", {
    deadline,
    expectedHead: head,
    beforeWrite: record,
    beforeForce: check,
  });
}
