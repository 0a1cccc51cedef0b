/**
 * Git's object ids (blob, tree, commit) and its order of tree entries, so that the fake's shas are the ones
 * git and GitHub would give for the same content.
 */
import { createHash } from "node:crypto";

const FILE_MODE = "100644";
const TREE_MODE = "40000";

export interface StoredFile {
  bytes: Uint8Array<ArrayBuffer>;
  sha: string;
}

export interface Person {
  name: string;
  email: string;
}

export interface CommitDetails {
  sha: string;
  tree: string;
  /** None for a root commit, two or more for a merge. */
  parents: string[];
  message: string;
  committer: Person;
  date: Date;
}

export interface Entry {
  type: "file" | "dir";
  path: string;
  sha: string;
  size: number;
}

/** Every folder's tree id, by folder, per map of files: a map is never changed once it has been hashed. */
const folderIds = new WeakMap<ReadonlyMap<string, StoredFile>, Map<string, string>>();

/** The files and (implicit) folders directly inside `dir`, in git's tree order. */
export function directoryEntries(files: ReadonlyMap<string, StoredFile>, dir: string): Entry[] {
  const prefix = dir === "" ? "" : `${dir}/`;
  const children = new Map<string, Entry>();
  for (const [path, file] of files) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash === -1) {
      children.set(rest, { type: "file", path, sha: file.sha, size: file.bytes.byteLength });
    } else {
      const childPath = prefix + rest.slice(0, slash);
      if (!children.has(rest.slice(0, slash)))
        children.set(rest.slice(0, slash), { type: "dir", path: childPath, sha: treeSha(files, childPath), size: 0 });
    }
  }
  return [...children.entries()]
    .sort(([a, left], [b, right]) => gitTreeOrder(a, left, b, right))
    .map(([, entry]) => entry);
}

/** Git sorts tree entries bytewise, comparing a folder's name as if it ended in "/". */
function gitTreeOrder(a: string, left: Entry, b: string, right: Entry): number {
  return Buffer.compare(
    Buffer.from(left.type === "dir" ? `${a}/` : a),
    Buffer.from(right.type === "dir" ? `${b}/` : b),
  );
}

/** The git tree id of `dir`, so that folder shas and commit trees are what git would compute. */
export function treeSha(files: ReadonlyMap<string, StoredFile>, dir = ""): string {
  return folderShas(files).get(dir) ?? gitObjectSha("tree", new Uint8Array());
}

/** The tree id of every folder of `files` ("" for the root), by folder: computed once for each map. */
export function folderShas(files: ReadonlyMap<string, StoredFile>): ReadonlyMap<string, string> {
  const known = folderIds.get(files);
  if (known) return known;
  interface Folder {
    files: [name: string, sha: string][];
    folders: Map<string, Folder>;
  }
  const root: Folder = { files: [], folders: new Map() };
  for (const [path, file] of files) {
    const names = path.split("/");
    let folder = root;
    for (const name of names.slice(0, -1)) {
      let next = folder.folders.get(name);
      if (!next) folder.folders.set(name, (next = { files: [], folders: new Map() }));
      folder = next;
    }
    folder.files.push([names.at(-1)!, file.sha]);
  }
  const ids = new Map<string, string>();
  const hash = (folder: Folder, dir: string): string => {
    const entries = [
      ...folder.files.map(([name, sha]) => ({ name, key: Buffer.from(name), mode: FILE_MODE, sha })),
      ...[...folder.folders].map(([name, inner]) => ({
        name,
        key: Buffer.from(`${name}/`),
        mode: TREE_MODE,
        sha: hash(inner, dir === "" ? name : `${dir}/${name}`),
      })),
    ].sort((left, right) => Buffer.compare(left.key, right.key));
    const sha = gitObjectSha(
      "tree",
      Buffer.concat(
        entries.flatMap((entry) => [Buffer.from(`${entry.mode} ${entry.name}\0`), Buffer.from(entry.sha, "hex")]),
      ),
    );
    ids.set(dir, sha);
    return sha;
  };
  hash(root, "");
  folderIds.set(files, ids);
  return ids;
}

/** The id git gives a commit object, so that commit shas look and behave like GitHub's. */
export function commitSha(tree: string, parents: readonly string[], who: Person, message: string, date: Date): string {
  const signature = `${who.name} <${who.email}> ${Math.floor(date.getTime() / 1000)} +0000`;
  const lines = [
    `tree ${tree}`,
    ...parents.map((parent) => `parent ${parent}`),
    `author ${signature}`,
    `committer ${signature}`,
  ];
  return gitObjectSha("commit", new TextEncoder().encode(`${lines.join("\n")}\n\n${message}\n`));
}

/** Git's object id: sha1 of "{type} {byteLength}\0" followed by the bytes; for a file, its blob sha. */
export function gitObjectSha(type: "blob" | "tree" | "commit", bytes: Uint8Array): string {
  return createHash("sha1").update(`${type} ${bytes.byteLength}\0`).update(bytes).digest("hex");
}
