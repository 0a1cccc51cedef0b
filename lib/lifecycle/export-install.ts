import { listDaySources } from "../storage/layout/list-day-sources.ts";
import { dayParts } from "../storage/layout/day-parts.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";

export interface ExportSummary {
  files: number;
  lines: number;
}

/**
 * Every stored line of the installs `hwids` (as stored: hashed already in hash mode), from every
 * day and part, oldest first, each line byte for byte as it is in its file: what an access request
 * is answered with. A line is matched by its `hwid` field, parsed, never by a text search.
 */
export async function exportInstall(
  files: RepositoryFiles,
  { prefix, hwids, deadline }: { prefix: string; hwids: readonly string[]; deadline: number },
  write: (line: string) => Promise<void> | void,
): Promise<ExportSummary> {
  const wanted = new Set(hwids);
  // As the ids are written inside a line: JSON-escaped.
  const written = hwids.map((hwid) => JSON.stringify(hwid).slice(1, -1));
  const summary: ExportSummary = { files: 0, lines: 0 };
  for (const source of await listDaySources(files, { prefix, deadline })) {
    for (const part of await dayParts(files, source, deadline)) {
      const text = (await files.read(part.path, { deadline }))?.toString("utf8");
      if (text === undefined) continue;
      summary.files += 1;
      for (const line of text.split("\n")) {
        // Cheap first: only a line that holds the id somewhere is parsed.
        if (!written.some((hwid) => line.includes(hwid))) continue;
        const hwid = hwidOf(line);
        if (hwid === undefined || !wanted.has(hwid)) continue;
        await write(`${line}\n`);
        summary.lines += 1;
      }
    }
  }
  return summary;
}

function hwidOf(line: string): string | undefined {
  try {
    const value = JSON.parse(line) as { hwid?: unknown };
    return typeof value.hwid === "string" ? value.hwid : undefined;
  } catch {
    return undefined;
  }
}
