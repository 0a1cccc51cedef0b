import { systemClock } from "../../lib/clock.ts";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { gitBlobSha } from "../../lib/storage/git-blob-sha.ts";
import { dayParts, type DayPart } from "../../lib/storage/layout/day-parts.ts";
import { listDaySources } from "../../lib/storage/layout/list-day-sources.ts";
import type { RepositoryFiles } from "../../lib/storage/repository-files.ts";
import { LONGEST_READ_MS } from "../../lib/tally/tally-days.ts";
import type { ReadProgress } from "./read-progress.ts";

/** A file of the period, on disk. */
export interface PeriodFile {
  day: string;
  /** Its path on disk. */
  path: string;
  size: number;
}

/** The files of the days from `from` to `to`, where they are on disk. */
export type PeriodFiles = (from: string, to: string) => Promise<PeriodFile[]>;

/** The period's parts as the report finds them (a listing a month, then a day), each with its day. */
async function partsOf(files: RepositoryFiles, prefix: string, from: string, to: string) {
  const deadline = systemClock.now() + LONGEST_READ_MS;
  const sources = await listDaySources(files, { prefix, from, to, deadline });
  const parts = await Promise.all(
    sources.map(async (source) =>
      (await dayParts(files, source, deadline)).map((part): DayPart & { day: string } => ({
        ...part,
        day: source.day,
      })),
    ),
  );
  return parts.flat();
}

/** A local folder's files of a period. */
export function localPeriodFiles(
  files: RepositoryFiles,
  { dir, prefix }: { dir: string; prefix: string },
): PeriodFiles {
  return async (from, to) =>
    (await partsOf(files, prefix, from, to)).map((part) => ({
      day: part.day,
      path: join(dir, part.path),
      size: part.size,
    }));
}

/**
 * The data repository's files of a period, downloaded into `cache` first: only those whose bytes there
 * are not the ones GitHub lists (by git's id), in one download (RepositoryFiles.readFiles), shown as a read
 * in progress. Each is written whole under a temporary name first: an interrupted download leaves no half file.
 */
export function cachedPeriodFiles(
  remote: RepositoryFiles,
  { cache, prefix, progress }: { cache: string; prefix: string; progress: ReadProgress },
): PeriodFiles {
  return async (from, to) => {
    const parts = await partsOf(remote, prefix, from, to);
    const stale: DayPart[] = [];
    for (const part of parts) {
      const file = join(cache, part.path);
      const size = await stat(file).then(
        (s) => s.size,
        () => undefined,
      );
      if (size !== part.size || gitBlobSha(await readFile(file)) !== part.sha) stale.push(part);
    }
    const bytes = stale.reduce((sum, part) => sum + part.size, 0);
    if (stale.length > 0)
      await progress.during(bytes, () =>
        remote.readFiles(
          stale,
          async (path, content) => {
            const file = join(cache, path);
            await mkdir(dirname(file), { recursive: true });
            await writeFile(`${file}.partial`, content);
            await rename(`${file}.partial`, file);
          },
          { deadline: systemClock.now() + LONGEST_READ_MS },
        ),
      );
    return parts.map((part) => ({ day: part.day, path: join(cache, part.path), size: part.size }));
  };
}
