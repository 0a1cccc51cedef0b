import { http, type RequestHandler } from "msw";
import { DEFAULT_API_URL, type FakeGitHub } from "./fake-github.ts";

/** msw handlers answering every method under `baseUrl` from `fake`, and its codeload downloads at the origin's root. */
export function githubHandlers(fake: FakeGitHub, baseUrl = DEFAULT_API_URL): RequestHandler[] {
  const root = baseUrl.replace(/\/+$/, "");
  const { origin, pathname } = new URL(root);
  const basePath = pathname.replace(/\/+$/, "");
  const api = http.all(`${root}/*`, ({ request }) => fake.handle(request, basePath));
  // Below an API root with a path (GHES's /api/v3), the archive's redirect leads out of it.
  if (basePath === "") return [api];
  return [api, http.get(`${origin}/_codeload/*`, ({ request }) => fake.handle(request, basePath))];
}
