import { serveFakeGitHub } from "../fake-github/serve-fake-github.ts";
import type { GitGitHub } from "./git-github.ts";

/** Serves `stand` over HTTP on 127.0.0.1 at a free port, as the in-memory fake is served; `url` is the API root. */
export function serveGitGitHub(stand: GitGitHub): Promise<{ url: string; close(): Promise<void> }> {
  return serveFakeGitHub(stand);
}
