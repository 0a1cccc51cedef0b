import type { Quarantine } from "../spool/quarantine.ts";
import { listDaySources } from "../storage/layout/list-day-sources.ts";
import { dayParts } from "../storage/layout/day-parts.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";
import { installMatcher } from "./install-matcher.ts";

export interface ExportSummary {
  files: number;
  lines: number;
  /** Events of the spool's quarantine, written after the stored lines. */
  quarantined: number;
}

/**
 * Every stored line of the installs `hwids` (as stored: hashed already in hash mode), from every
 * day and part, oldest first, each line byte for byte as it is in its file: what an access request
 * is answered with. A line is matched by its `hwid` field on its stored form (see installMatcher),
 * then parsed; give every form of an install (see hwidForms) to find lines stored under each. Then,
 * given the spool's `quarantine`, the events of those installs it keeps, each marked as such.
 */
export async function exportInstall(
  files: RepositoryFiles,
  {
    prefix,
    hwids,
    deadline,
    quarantine,
  }: { prefix: string; hwids: readonly string[]; deadline: number; quarantine?: Quarantine | undefined },
  write: (line: string) => Promise<void> | void,
): Promise<ExportSummary> {
  const matcher = installMatcher(hwids);
  const summary: ExportSummary = { files: 0, lines: 0, quarantined: 0 };
  for (const source of await listDaySources(files, { prefix, deadline })) {
    for (const part of await dayParts(files, source, deadline)) {
      const text = (await files.read(part.path, { deadline }))?.toString("utf8");
      if (text === undefined) continue;
      summary.files += 1;
      if (!matcher.names(text)) continue;
      for (const line of text.split("\n")) {
        if (matcher.ownerOf(line) === undefined) continue;
        await write(`${line}\n`);
        summary.lines += 1;
      }
    }
  }
  if (quarantine) summary.quarantined = await quarantine.writeEventsOf(hwids, write);
  return summary;
}
