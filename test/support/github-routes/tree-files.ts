/**
 * A tree's files as an index holds them, path by path, and the edits a tree request makes to them: a file
 * written where a folder was replaces it, as does a folder written where a file was, and a folder exists
 * only while it holds a file, as in git.
 */

export interface IndexEntry {
  /** 100644, 100755, 120000 (a symlink) or 160000 (a submodule). */
  mode: string;
  sha: string;
}

export type TreeFiles = Map<string, IndexEntry>;

export function putFile(files: TreeFiles, path: string, entry: IndexEntry): void {
  clearPath(files, path);
  files.set(path, entry);
}

/** Puts every file of `tree` under folder `path`. */
export function putTree(files: TreeFiles, path: string, tree: TreeFiles): void {
  clearPath(files, path);
  for (const [inner, entry] of tree) files.set(`${path}/${inner}`, entry);
}

/** Removes the file at `path`; false when there is none. */
export function removeFile(files: TreeFiles, path: string): boolean {
  return files.delete(path);
}

/** Makes room at `path`: no file on the way to it, nothing at it or under it. */
function clearPath(files: TreeFiles, path: string): void {
  for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1))
    files.delete(path.slice(0, slash));
  files.delete(path);
  const prefix = `${path}/`;
  for (const key of [...files.keys()]) if (key.startsWith(prefix)) files.delete(key);
}
