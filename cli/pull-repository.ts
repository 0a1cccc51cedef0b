import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { Clock } from "../lib/clock.ts";
import { mapLimit } from "../lib/spool/map-limit.ts";
import { gitBlobSha } from "../lib/storage/git-blob-sha.ts";
import type { RepositoryEntry, RepositoryFiles } from "../lib/storage/repository-files.ts";
import { LONGEST_READ_MS } from "../lib/tally/tally-days.ts";

/** Downloads at once: GitHub serves reads in parallel, and its primary limit (5,000 an hour) counts requests, not bytes. */
const DOWNLOAD_CONCURRENCY = 8;
const MIRRORED = /\.(?:ndjson|json)$/;

export interface PullProgress {
  /** Files to download, once the listing is done; then each one downloaded. */
  total: number;
  done: number;
  bytes: number;
}

export interface PullSummary {
  files: number;
  downloaded: number;
  unchanged: number;
  removed: number;
  bytes: number;
}

/**
 * Mirrors the data repository's NDJSON tree (`folders`, e.g. the prefix and the rollups) into
 * `to`, incrementally: a file whose local bytes have the sha GitHub lists is not downloaded again,
 * and a local file of those folders that the repository no longer holds is removed. Each file is
 * written whole under a temporary name first, so that an interrupted pull leaves no half file.
 */
export async function pullRepository(
  remote: RepositoryFiles,
  to: string,
  {
    folders,
    clock,
    onProgress,
  }: { folders: readonly string[]; clock: Clock; onProgress?: (progress: PullProgress) => void },
): Promise<PullSummary> {
  const options = { deadline: clock.now() + LONGEST_READ_MS };
  const listed: RepositoryEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await remote.list(dir, options);
    listed.push(...entries.filter((entry) => entry.type === "file" && MIRRORED.test(entry.name)));
    await mapLimit(
      entries.filter((entry) => entry.type === "dir"),
      DOWNLOAD_CONCURRENCY,
      (entry) => walk(entry.path),
    );
  };
  for (const folder of folders) await walk(folder);

  const stale = [];
  for (const entry of listed) {
    const local = await readFile(join(to, entry.path)).catch(() => undefined);
    if (!local || gitBlobSha(local) !== entry.sha) stale.push(entry);
  }
  const progress: PullProgress = { total: stale.length, done: 0, bytes: 0 };
  onProgress?.(progress);
  await mapLimit(stale, DOWNLOAD_CONCURRENCY, async (entry) => {
    const bytes = await remote.read(entry.path, options);
    if (!bytes) return;
    const file = join(to, entry.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.partial`, bytes);
    await rename(`${file}.partial`, file);
    progress.done += 1;
    progress.bytes += bytes.length;
    onProgress?.(progress);
  });

  const kept = new Set(listed.map((entry) => entry.path));
  let removed = 0;
  for (const folder of folders) {
    for (const path of await localFiles(to, folder)) {
      if (kept.has(path) || !MIRRORED.test(path)) continue;
      await rm(join(to, path));
      removed += 1;
    }
  }
  return {
    files: listed.length,
    downloaded: progress.done,
    unchanged: listed.length - stale.length,
    removed,
    bytes: progress.bytes,
  };
}

async function localFiles(root: string, folder: string): Promise<string[]> {
  const entries = await readdir(join(root, folder), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(root, join(entry.parentPath, entry.name)));
}
