import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import type { GitHubAdapter, GitHubCall } from "./github-adapter.ts";
import { readHeadCommit } from "./read-head.ts";
import type { ListedFile } from "../repository-files.ts";

/** Tar entry types that hold a file's bytes (git archive writes every file as the first). */
const FILE_ENTRY_TYPES = new Set(["file", "contiguous-file"]);

/** Files of one tree referenced in one `POST /git/trees`: GitHub's request body stays well under its size limits. */
const BLOBS_A_TREE = 5_000;
const ARCHIVE_MESSAGE = "Files read together (no branch points here)";

/**
 * Every file under `dir` at the branch's head, from GitHub's tarball of that commit (named by its sha, so
 * that the files are those of the head given back, whatever lands meanwhile). No head for an empty
 * repository or a branch not made yet, which hold no files.
 */
export async function readArchive(
  github: GitHubAdapter,
  dir: string,
  visit: (path: string, bytes: Buffer) => Promise<void>,
  call: GitHubCall,
): Promise<{ head: string | undefined }> {
  const found = await readHeadCommit(github, await github.branch(call), call);
  if (found === "empty" || found === "missing") return { head: undefined };
  const prefix = dir === "" ? "" : `${dir}/`;
  await downloadArchive(github, found.sha, (path) => path.startsWith(prefix), visit, call);
  return { head: found.sha };
}

/**
 * The files named, by their git ids, whatever branch holds them: a tree of just those blobs (`POST
 * /git/trees` without a base), a commit of it with no parent (`POST /git/commits`; no ref is made or
 * moved, and GitHub drops it in time), and that commit's tarball: three requests for up to BLOBS_A_TREE
 * files, rather than one a file, and only the bytes asked for (a whole branch's archive holds every day).
 * The two writes count as content creation against GitHub's secondary limits, and need a credential
 * that may write the repository's contents.
 */
export async function readBlobsArchive(
  github: GitHubAdapter,
  files: readonly ListedFile[],
  visit: (path: string, bytes: Buffer) => Promise<void>,
  call: GitHubCall,
): Promise<void> {
  for (let from = 0; from < files.length; from += BLOBS_A_TREE) {
    const chunk = files.slice(from, from + BLOBS_A_TREE);
    const { data: tree } = await github.client.rest.git.createTree({
      ...github.repository(),
      tree: chunk.map((file) => ({ path: file.path, mode: "100644" as const, type: "blob" as const, sha: file.sha })),
      request: github.writeRequest(call),
    });
    const { data: commit } = await github.client.rest.git.createCommit({
      ...github.repository(),
      message: ARCHIVE_MESSAGE,
      tree: tree.sha,
      parents: [],
      request: github.writeRequest(call),
    });
    const wanted = new Set(chunk.map((file) => file.path));
    await downloadArchive(github, commit.sha, (path) => wanted.has(path), visit, call);
  }
}

/**
 * The files of commit `sha` that `wanted` takes, from GitHub's tarball of it, read as it downloads, one
 * file's bytes held at a time: GitHub's 302 to codeload is followed by fetch, and Octokit, told not to
 * parse the answer, gives its body as a web stream.
 */
async function downloadArchive(
  github: GitHubAdapter,
  sha: string,
  wanted: (path: string) => boolean,
  visit: (path: string, bytes: Buffer) => Promise<void>,
  call: GitHubCall,
): Promise<void> {
  const { data } = await github.client.rest.repos.downloadTarballArchive({
    ...github.repository(),
    ref: sha,
    request: { parseSuccessResponseBody: false, ...github.request(call) },
  });
  const body = data as WebReadableStream<Uint8Array> | null;
  if (!body) throw new Error(`GitHub sent no archive of ${sha}`);
  const entries = extract();
  const piping = pipeline(Readable.fromWeb(body), createGunzip(), entries);
  // Its failure ends the loop below with the same error; leaving the loop early ends it too.
  piping.catch(() => {});
  for await (const entry of entries) {
    // Every path sits in the archive's top folder, `{owner}-{repo}-{sha7}/`.
    const path = entry.header.name.slice(entry.header.name.indexOf("/") + 1);
    if (!FILE_ENTRY_TYPES.has(entry.header.type) || path === "" || !wanted(path)) {
      entry.resume();
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    await visit(path, Buffer.concat(chunks));
  }
  await piping;
}
