/** The fake GitHub's tests' client side: an Octokit against a fake served through msw, and the calls they share. */
import { Octokit } from "@octokit/rest";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { FakeGitHub, githubHandlers, type FakeGitHubOptions } from "../support/fake-github/index.ts";

export const TOKEN = "fake-token";
export const OWNER = "acme";
export const REPO = "data";
export const GHES = "https://ghe.example.com/api/v3";
// Known git ids, from `git hash-object` / `git write-tree` on the same content.
export const HELLO_BLOB_SHA = "ce013625030ba8dba906f756967f9e9ca394464a";
export const TREE_OF_A = "226c871723760f0eead45fc502fb06db233b9a6c"; // a/b.txt "one\n", a/c/d.txt "two\n"
export const TREE_OF_A_C = "4358d0ffe445b498acb216da616e44b8a88af07b";
export const ROOT_TREE = "7abd1377b71284d31964b74bf2139f6ab69b274b"; // the above plus a.txt "top\n"
export const SHA = /^[0-9a-f]{40}$/;

export const server = setupServer();

/** Answers the calling file's requests to GitHub through msw, by the fakes `useFake` makes. */
export function useMsw(): void {
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
}

export function useFake(options: FakeGitHubOptions = {}, baseUrl?: string): FakeGitHub {
  const fake = new FakeGitHub({ owner: OWNER, repo: REPO, token: TOKEN, ...options });
  server.use(...githubHandlers(fake, baseUrl));
  return fake;
}

// Octokit logs every refused request; here refusals are what is tested.
export const QUIET = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export function octokit(options: { auth?: string; baseUrl?: string } = {}): Octokit {
  return new Octokit({ auth: TOKEN, log: QUIET, ...options });
}

export const base64 = (text: string) => Buffer.from(text).toString("base64");

export async function failure(
  call: Promise<unknown>,
): Promise<{ status: number; message: string; data: Record<string, unknown>; headers: Record<string, string> }> {
  const error = (await call.then(
    () => expect.fail("expected GitHub to refuse"),
    (caught: unknown) => caught,
  )) as {
    status: number;
    message: string;
    response: { data: Record<string, unknown>; headers: Record<string, string> };
  };
  return { status: error.status, message: error.message, data: error.response.data, headers: error.response.headers };
}

export function put(client: Octokit, path: string, text: string, extra: { sha?: string; branch?: string } = {}) {
  return client.rest.repos.createOrUpdateFileContents({
    owner: OWNER,
    repo: REPO,
    path,
    message: `write ${path}`,
    content: base64(text),
    ...extra,
  });
}

export function get(client: Octokit, path: string, extra: { ref?: string } = {}) {
  return client.rest.repos.getContent({ owner: OWNER, repo: REPO, path, ...extra });
}
