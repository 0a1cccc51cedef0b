/**
 * The fake GitHub's public face: the REST emulation (`FakeGitHub`, in fake-github.ts) and its two transports,
 * msw handlers (github-handlers.ts) and a loopback HTTP server (serve-fake-github.ts).
 */
export { FakeGitHub, type CommitRecord, type FakeGitHubOptions, type RequestRecord } from "./fake-github.ts";
export { githubHandlers } from "./github-handlers.ts";
export { serveFakeGitHub } from "./serve-fake-github.ts";
