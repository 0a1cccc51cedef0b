import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import type { GitHubAdapter, GitHubCall } from "./github-adapter.ts";
import { readHeadCommit } from "./read-head.ts";

/** Tar entry types that hold a file's bytes (git archive writes every file as the first). */
const FILE_ENTRY_TYPES = new Set(["file", "contiguous-file"]);

/**
 * Every file under `dir` at the branch's head, from GitHub's tarball of that commit (named by its sha, so
 * that the files are those of the head given back, whatever lands meanwhile). The archive is read as it
 * downloads, one file's bytes held at a time: GitHub's 302 to codeload is followed by fetch, and Octokit,
 * told not to parse the answer, gives its body as a web stream. No head for an empty repository or a
 * branch not made yet, which hold no files.
 */
export async function readArchive(
  github: GitHubAdapter,
  dir: string,
  visit: (path: string, bytes: Buffer) => Promise<void>,
  call: GitHubCall,
): Promise<{ head: string | undefined }> {
  const found = await readHeadCommit(github, await github.branch(call), call);
  if (found === "empty" || found === "missing") return { head: undefined };
  const head = found.sha;
  const { data } = await github.client.rest.repos.downloadTarballArchive({
    ...github.repository(),
    ref: head,
    request: { parseSuccessResponseBody: false, ...github.request(call) },
  });
  const body = data as WebReadableStream<Uint8Array> | null;
  if (!body) throw new Error(`GitHub sent no archive of ${head}`);
  const prefix = dir === "" ? "" : `${dir}/`;
  const entries = extract();
  const piping = pipeline(Readable.fromWeb(body), createGunzip(), entries);
  // Its failure ends the loop below with the same error; leaving the loop early ends it too.
  piping.catch(() => {});
  for await (const entry of entries) {
    // Every path sits in the archive's top folder, `{owner}-{repo}-{sha7}/`.
    const path = entry.header.name.slice(entry.header.name.indexOf("/") + 1);
    if (!FILE_ENTRY_TYPES.has(entry.header.type) || !path.startsWith(prefix) || path === "") {
      entry.resume();
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    await visit(path, Buffer.concat(chunks));
  }
  await piping;
  return { head };
}
