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
  parent: string | undefined;
  message: string;
  committer: Person;
  date: Date;
  blobSha: string;
}

export interface Entry {
  type: "file" | "dir";
  path: string;
  sha: string;
  size: number;
}

/** The files and (implicit) folders directly inside `dir`, in git's tree order. */
export function directoryEntries(files: Map<string, StoredFile>, dir: string): Entry[] {
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
export function treeSha(files: Map<string, StoredFile>, dir = ""): string {
  const parts = directoryEntries(files, dir).map((entry) =>
    Buffer.concat([
      Buffer.from(
        `${entry.type === "file" ? FILE_MODE : TREE_MODE} ${entry.path.slice(entry.path.lastIndexOf("/") + 1)}\0`,
      ),
      Buffer.from(entry.sha, "hex"),
    ]),
  );
  return gitObjectSha("tree", Buffer.concat(parts));
}

/** The id git gives a commit object, so that commit shas look and behave like GitHub's. */
export function commitSha(tree: string, parent: string | undefined, who: Person, message: string, date: Date): string {
  const signature = `${who.name} <${who.email}> ${Math.floor(date.getTime() / 1000)} +0000`;
  const lines = [
    `tree ${tree}`,
    ...(parent ? [`parent ${parent}`] : []),
    `author ${signature}`,
    `committer ${signature}`,
  ];
  return gitObjectSha("commit", new TextEncoder().encode(`${lines.join("\n")}\n\n${message}\n`));
}

/** Git's object id: sha1 of "{type} {byteLength}\0" followed by the bytes; for a file, its blob sha. */
export function gitObjectSha(type: "blob" | "tree" | "commit", bytes: Uint8Array): string {
  return createHash("sha1").update(`${type} ${bytes.byteLength}\0`).update(bytes).digest("hex");
}
