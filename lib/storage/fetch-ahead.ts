import type { FilesCallOptions, ListedFile, RepositoryFiles } from "./repository-files.ts";

/** What a caller reads through fetchAhead: its `read`, and `close` once it has read what it wanted. */
export interface FetchedAhead {
  read: (path: string, options: FilesCallOptions) => Promise<Buffer | undefined>;
  close: () => Promise<void>;
}

/**
 * A `read` for a reader that asks for files one at a time, a few ahead (tallyParts), over one download
 * of all of `wanted` (RepositoryFiles.readFiles), in the order it will ask for them. The download waits
 * at each file until the reader has asked for it (or for a later one), so that memory holds the few
 * files asked ahead, never the download; a file is handed over once. A file not among `wanted`, asked
 * again, or that the download did not give, is read on its own.
 */
export function fetchAhead(
  files: RepositoryFiles,
  wanted: readonly ListedFile[],
  options: FilesCallOptions,
): FetchedAhead {
  const order = new Map(wanted.map((file, i) => [file.path, i]));
  const slots = new Map<string, { bytes: Promise<Buffer | undefined>; give(bytes: Buffer | undefined): void }>();
  const taken = new Set<string>();
  let asked = -1;
  let waiting: (() => void)[] = [];
  let closed = false;
  const slot = (path: string) => {
    let found = slots.get(path);
    if (!found) {
      let give!: (bytes: Buffer | undefined) => void;
      const bytes = new Promise<Buffer | undefined>((resolve) => (give = resolve));
      found = { bytes, give };
      slots.set(path, found);
    }
    return found;
  };
  const wake = () => {
    const woken = waiting;
    waiting = [];
    woken.forEach((resume) => resume());
  };
  const given = new Set<string>();
  const download = files
    .readFiles(
      wanted,
      async (path, bytes) => {
        if (closed) throw new ClosedError();
        given.add(path);
        slot(path).give(bytes);
        while (!closed && asked < order.get(path)!) await new Promise<void>((resume) => waiting.push(resume));
      },
      options,
    )
    .catch((error: unknown) => (error instanceof ClosedError ? undefined : error));
  // Whatever the download did not give (gone, or it failed) is read on its own when asked for.
  void download.then(() => {
    for (const file of wanted) if (!given.has(file.path)) slot(file.path).give(undefined);
  });
  return {
    read: async (path, callOptions) => {
      const index = order.get(path);
      if (index === undefined || taken.has(path)) return files.read(path, callOptions);
      taken.add(path);
      asked = Math.max(asked, index);
      wake();
      const bytes = await slot(path).bytes;
      slots.delete(path);
      return given.has(path) ? bytes : files.read(path, callOptions);
    },
    close: async () => {
      closed = true;
      wake();
      await download;
    },
  };
}

/** Ends a download whose reader has read what it wanted. */
class ClosedError extends Error {
  override name = "ClosedError";
}
