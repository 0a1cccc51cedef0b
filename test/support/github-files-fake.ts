import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, expect, vi } from "vitest";
import type { GitHubConfig } from "../../lib/config.ts";
import { GitHubAdapter } from "../../lib/storage/github/github-adapter.ts";
import { GitHubFiles } from "../../lib/storage/github/github-files.ts";
import type { FileChange } from "../../lib/storage/repository-files.ts";
import { FakeGitHub, githubHandlers, type FakeGitHubOptions } from "./fake-github/index.ts";

/** What the GitHubFiles tests share: the in-memory fake GitHub behind msw, and GitHubFiles on it. */
export const API = "https://api.github.com";
export const TOKEN = "test-token-do-not-leak";
export const DAY = "telemetry/2026/11/22";
export const SHA = /^[0-9a-f]{40}$/;

export const soon = () => ({ deadline: Date.now() + 4000 });
export const write = (path: string, content: string): FileChange => ({ path, content });
export const remove = (path: string): FileChange => ({ path, content: null });

/** Registers msw's server for the calling test file (listening between its tests, reset after each). */
export function githubFilesServer() {
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => {
    server.resetHandlers();
    vi.restoreAllMocks();
  });
  afterAll(() => server.close());
  return {
    server,
    /** A new fake repository `acme/data`, answering at API. */
    useFake: (options: FakeGitHubOptions = {}): FakeGitHub => {
      const fake = new FakeGitHub({ owner: "acme", repo: "data", token: TOKEN, ...options });
      server.use(...githubHandlers(fake, API));
      return fake;
    },
  };
}

export function newFiles(overrides: Partial<GitHubConfig> = {}): GitHubFiles {
  return new GitHubFiles(
    new GitHubAdapter({
      credentials: { kind: "token", token: TOKEN },
      owner: "acme",
      repo: "data",
      branch: undefined,
      apiUrl: API,
      ...overrides,
    }),
  );
}

/** The requests `fake` took, as `METHOD path` below the repository. */
export const callsTo = (fake: FakeGitHub) =>
  fake.requests.map(({ method, path }) => `${method} ${path.replace("/repos/acme/data", "") || "/"}`);

/** A contents-API PUT, as a flush makes it, straight to the fake. */
export async function flushWrite(path: string, text: string): Promise<void> {
  const response = await fetch(`${API}/repos/acme/data/contents/${path}`, {
    method: "PUT",
    headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ message: "Append 1 telemetry event", content: Buffer.from(text).toString("base64") }),
  });
  expect(response.status).toBe(201);
}
