import { join } from "node:path";
import { dayParts } from "../../lib/storage/layout/day-parts.ts";
import { listDaySources } from "../../lib/storage/layout/list-day-sources.ts";
import type { RepositoryFiles } from "../../lib/storage/repository-files.ts";
import { LONGEST_READ_MS } from "../../lib/tally/tally-days.ts";

/** A file of the period, on disk. */
export interface PeriodFile {
  day: string;
  /** Its path on disk. */
  path: string;
  size: number;
}

/** The files of the days from `from` to `to` in a local folder, found as the report finds them. */
export async function periodFiles(
  files: RepositoryFiles,
  { dir, prefix, from, to }: { dir: string; prefix: string; from: string; to: string },
): Promise<PeriodFile[]> {
  const deadline = Date.now() + LONGEST_READ_MS;
  const sources = await listDaySources(files, { prefix, from, to, deadline });
  const parts = await Promise.all(
    sources.map(async (source) =>
      (await dayParts(files, source, deadline)).map((part) => ({
        day: source.day,
        path: join(dir, part.path),
        size: part.size,
      })),
    ),
  );
  return parts.flat();
}
