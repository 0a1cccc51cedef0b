/**
 * A stand-in for GitHub's REST API backed by a real bare git repository (`GitGitHub`, in git-github.ts), and
 * a loopback HTTP server for it (serve-git-github.ts).
 */
export { GitGitHub, type GitGitHubOptions, type GitRequestRecord } from "./git-github.ts";
export { serveGitGitHub } from "./serve-git-github.ts";
