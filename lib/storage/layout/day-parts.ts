import type { RepositoryFiles } from "../repository-files.ts";
import type { DaySource } from "./day-sources.ts";
import { PART_NAME } from "./partition.ts";

/** One file of a day: its name in the month folder (`22.ndjson`, `22/0001.ndjson`), path and size. */
export interface DayPart {
  name: string;
  path: string;
  size: number;
  /** Git's id of its bytes; "" where the store has none. */
  sha: string;
}

/** A day's files in the order they were written: the old layout's, then the day folder's parts. */
export async function dayParts(
  files: Pick<RepositoryFiles, "list">,
  source: DaySource,
  deadline: number,
): Promise<DayPart[]> {
  const parts = source.oldFiles.map((file) => ({ name: file.name, path: file.path, size: file.size, sha: file.sha }));
  if (!source.folder) return parts;
  const listed = await files.list(source.folder.path, { deadline });
  const named = listed.filter((entry) => entry.type === "file" && PART_NAME.test(entry.name));
  named.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const part of named)
    parts.push({ name: `${source.folder.name}/${part.name}`, path: part.path, size: part.size, sha: part.sha });
  return parts;
}
