import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import type {
  CommitFilesOptions,
  CommitFilesResult,
  FileChange,
  FilesCallOptions,
  ListedFile,
  RepositoryEntry,
  RepositoryFiles,
} from "../repository-files.ts";
import { MISSING, orWhenMissing } from "./or-when-missing.ts";

/** Random bytes naming a commit (in hex), which only tell one commit from another in messages. */
const COMMIT_ID_BYTES = 6;
const TEMP_SUFFIX_BYTES = 6;
/** A file's new bytes, written beside it before they replace it: never listed. */
const TEMP_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/;
/** Git's own folder, when the folder is a clone: GitHub never lists it. */
const GIT_DIR = ".git";

/**
 * The repository's tree in a local folder, for `netlify dev` without a token. Each file is replaced whole and
 * atomically (written beside it, then renamed over it), so that a reader sees the old bytes or the new, never
 * part of them. There is no history: a commit is the changes made, and its id only names it in messages.
 * Nothing waits on a remote, so deadlines and write pacing do not apply.
 * Shas are "" (unknown): git's ids would take reading every file (a listing of a day would read 330 MB),
 * and a caller that compares shas takes "" as changed.
 */
export class LocalFiles implements RepositoryFiles {
  constructor(private readonly dir: string) {}

  describe(): string {
    return this.dir;
  }

  async list(dir: string, _options?: FilesCallOptions): Promise<RepositoryEntry[]> {
    const prefix = dir.replace(/^\/+|\/+$/g, "");
    const folder = this.resolve(prefix);
    const found = await readdir(folder, { withFileTypes: true }).catch(orWhenMissing([]));
    const entries: RepositoryEntry[] = [];
    for (const dirent of found) {
      const { name } = dirent;
      if ((prefix === "" && name === GIT_DIR) || TEMP_FILE.test(name)) continue;
      const path = prefix === "" ? name : `${prefix}/${name}`;
      if (dirent.isFile()) {
        // Removed since the folder was read: not listed.
        const info = await stat(join(folder, name)).catch(orWhenMissing(undefined));
        if (info) entries.push({ path, name, type: "file", sha: "", size: info.size });
      } else if (dirent.isDirectory() && (await holdsFiles(join(folder, name)))) {
        // Git keeps no empty folders, so GitHub lists none.
        entries.push({ path, name, type: "dir", sha: "", size: 0 });
      }
    }
    // Git's order, in which GitHub lists a folder: bytewise, a folder's name as if it ended in "/".
    const key = (entry: RepositoryEntry) => Buffer.from(entry.type === "dir" ? `${entry.name}/` : entry.name);
    return entries.sort((left, right) => Buffer.compare(key(left), key(right)));
  }

  async read(path: string, _options?: FilesCallOptions): Promise<Buffer | undefined> {
    return readFile(this.resolve(path)).catch(orWhenMissing(undefined));
  }

  /** A folder keeps no history: there is nothing to squash. */
  async squashHistory(): Promise<undefined> {
    return undefined;
  }

  /** Every file under `dir`, in sorted path order; a folder has no commits, so no head. */
  async readTree(
    dir: string,
    visit: (path: string, bytes: Buffer) => Promise<void> | void,
    _options?: FilesCallOptions,
  ): Promise<{ head: string | undefined }> {
    const prefix = dir.replace(/^\/+|\/+$/g, "");
    // Bytewise by path, the order of git's trees walked whole (and of GitHub's archive): dated paths oldest first.
    const paths = (await this.filesUnder(prefix)).sort((left, right) =>
      Buffer.compare(Buffer.from(left), Buffer.from(right)),
    );
    for (const path of paths) {
      // Removed since the folder was read: not given.
      const bytes = await readFile(this.resolve(path)).catch(orWhenMissing(undefined));
      if (bytes) await visit(path, bytes);
    }
    return { head: undefined };
  }

  /** Each file in turn: the disk is the download. */
  async readFiles(
    files: readonly ListedFile[],
    visit: (path: string, bytes: Buffer) => Promise<void> | void,
  ): Promise<void> {
    for (const file of files) {
      const bytes = await this.read(file.path);
      if (bytes) await visit(file.path, bytes);
    }
  }

  /** `expectedHead` is not checked: a folder has no commits to have moved past. */
  async commitFiles(
    changes: readonly FileChange[],
    _message?: string,
    _options?: CommitFilesOptions,
  ): Promise<CommitFilesResult> {
    let changed = false;
    // The last change to a path is the one that counts.
    for (const { path, content } of new Map(changes.map((change) => [change.path, change])).values()) {
      const file = this.resolve(path);
      if (file === resolve(this.dir)) throw new Error(`"${path}" names no file`);
      if (content === null) {
        changed = (await removeFile(file)) || changed;
        await this.removeEmptyFolders(dirname(file));
        continue;
      }
      const bytes = Buffer.from(content, "utf8");
      const current = await readFile(file).catch(orWhenMissing(undefined));
      if (current?.equals(bytes)) continue;
      await writeAtomically(file, bytes);
      changed = true;
    }
    return { commit: changed ? randomBytes(COMMIT_ID_BYTES).toString("hex") : undefined, writes: 0 };
  }

  /** The paths of every file under `prefix` ("" for all), leaving out git's folder and unfinished writes. */
  private async filesUnder(prefix: string): Promise<string[]> {
    const folder = this.resolve(prefix);
    const found = await readdir(folder, { withFileTypes: true }).catch(orWhenMissing([]));
    const paths: string[] = [];
    for (const dirent of found) {
      const { name } = dirent;
      if ((prefix === "" && name === GIT_DIR) || TEMP_FILE.test(name)) continue;
      const path = prefix === "" ? name : `${prefix}/${name}`;
      if (dirent.isFile()) paths.push(path);
      else if (dirent.isDirectory()) paths.push(...(await this.filesUnder(path)));
    }
    return paths;
  }

  /** `path` within the folder; a path that leads out of it is refused. */
  private resolve(path: string): string {
    const root = resolve(this.dir);
    const full = resolve(root, path);
    const inside = relative(root, full);
    if (inside.startsWith("..") || isAbsolute(inside)) throw new Error(`${path} is outside ${this.dir}`);
    return full;
  }

  /** Removes `folder` and the folders above it that a removal left empty, up to (not including) the root. */
  private async removeEmptyFolders(folder: string): Promise<void> {
    const root = resolve(this.dir);
    for (let current = folder; current !== root && current.startsWith(root); current = dirname(current)) {
      try {
        await rmdir(current);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "";
        if (!MISSING.has(code)) return; // ENOTEMPTY, or EEXIST on some systems: it still holds something.
      }
    }
  }
}

/** Whether `folder`, or a folder in it, holds a file. */
async function holdsFiles(folder: string): Promise<boolean> {
  const found = await readdir(folder, { withFileTypes: true }).catch(orWhenMissing([]));
  for (const dirent of found) {
    if (TEMP_FILE.test(dirent.name)) continue;
    if (dirent.isFile()) return true;
    if (dirent.isDirectory() && (await holdsFiles(join(folder, dirent.name)))) return true;
  }
  return false;
}

/** Whether there was a file to remove. */
async function removeFile(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (error) {
    if (MISSING.has((error as NodeJS.ErrnoException).code ?? "")) return false;
    throw error;
  }
}

async function writeAtomically(file: string, bytes: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(TEMP_SUFFIX_BYTES).toString("hex")}.tmp`);
  try {
    await writeFile(temp, bytes);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
