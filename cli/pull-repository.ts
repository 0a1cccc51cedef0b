import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { z } from "zod";
import type { Clock } from "../lib/clock.ts";
import { mapLimit } from "../lib/spool/map-limit.ts";
import { gitBlobSha } from "../lib/storage/git-blob-sha.ts";
import type { RepositoryEntry, RepositoryFiles } from "../lib/storage/repository-files.ts";
import { LONGEST_READ_MS } from "../lib/tally/tally-days.ts";

/** Folders listed at once: GitHub serves reads in parallel, and its primary limit (5,000 an hour) counts requests, not bytes. */
const LISTINGS_AT_ONCE = 8;
const MIRRORED = /\.(?:ndjson|json)$/;
/** What pull wrote into `--to`, by path: the only files it ever removes. */
const PULL_MANIFEST = ".telemetry-pull.json";
const manifestSchema = z.object({ files: z.array(z.string()) });

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
 * and a file pull wrote (its manifest, PULL_MANIFEST) that the repository no longer holds is
 * removed; a file it did not write is never touched. A listed path that would land outside `to` is
 * refused before anything is written. Each file is written whole under a temporary name first, so
 * that an interrupted pull leaves no half file.
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
      LISTINGS_AT_ONCE,
      (entry) => walk(entry.path),
    );
  };
  for (const folder of folders) await walk(folder);
  for (const entry of listed) within(to, entry.path);
  const written = await readManifest(to);

  const stale = [];
  for (const entry of listed) {
    const local = await readFile(join(to, entry.path)).catch(() => undefined);
    if (!local || gitBlobSha(local) !== entry.sha) stale.push(entry);
  }
  const progress: PullProgress = { total: stale.length, done: 0, bytes: 0 };
  onProgress?.(progress);
  // Many files come in one archive download, a few a request each (RepositoryFiles.readFiles).
  await remote.readFiles(
    stale,
    async (path, bytes) => {
      const file = within(to, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(`${file}.partial`, bytes);
      await rename(`${file}.partial`, file);
      progress.done += 1;
      progress.bytes += bytes.length;
      onProgress?.(progress);
    },
    options,
  );

  const kept = new Set(listed.map((entry) => entry.path));
  const pulled = (path: string) => folders.some((folder) => folder === "" || path.startsWith(`${folder}/`));
  const gone = written.filter((path) => !kept.has(path) && pulled(path));
  for (const path of gone) await rm(within(to, path), { force: true });
  // Files of folders not pulled this time stay recorded: a later pull of them may still remove them.
  await writeManifest(to, [...kept, ...written.filter((path) => !kept.has(path) && !pulled(path))]);
  return {
    files: listed.length,
    downloaded: progress.done,
    unchanged: listed.length - stale.length,
    removed: gone.length,
    bytes: progress.bytes,
  };
}

/** `path` under `to`, or an error naming it: a listing (or a manifest) may hold `..`. */
function within(to: string, path: string): string {
  const file = resolve(to, path);
  const inside = relative(resolve(to), file);
  if (inside === "" || inside === PULL_MANIFEST || inside.startsWith("..") || isAbsolute(inside)) {
    throw new Error(`refusing ${JSON.stringify(path)}: it resolves outside ${to}`);
  }
  return file;
}

async function readManifest(to: string): Promise<string[]> {
  const text = await readFile(join(to, PULL_MANIFEST), "utf8").catch(() => undefined);
  if (text === undefined) return [];
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${join(to, PULL_MANIFEST)} is not pull's manifest: move it away`);
  return parsed.data.files;
}

async function writeManifest(to: string, files: string[]): Promise<void> {
  const file = join(to, PULL_MANIFEST);
  await mkdir(to, { recursive: true });
  await writeFile(`${file}.partial`, `${JSON.stringify({ files: files.sort() }, null, 2)}\n`);
  await rename(`${file}.partial`, file);
}
