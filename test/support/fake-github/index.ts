/** The fake GitHub's public face: the REST emulation, its two transports, and the types callers name. */
export { FakeGitHub, type CommitRecord, type FakeGitHubOptions, type RequestRecord } from "./fake-github.ts";
export { githubHandlers, serveFakeGitHub } from "./fake-github.ts";
