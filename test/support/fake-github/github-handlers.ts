import { http, type RequestHandler } from "msw";
import { DEFAULT_API_URL, type FakeGitHub } from "./fake-github.ts";

/** msw handlers answering every method under `baseUrl` from `fake`. */
export function githubHandlers(fake: FakeGitHub, baseUrl = DEFAULT_API_URL): RequestHandler[] {
  const root = baseUrl.replace(/\/+$/, "");
  const basePath = new URL(root).pathname.replace(/\/+$/, "");
  return [http.all(`${root}/*`, ({ request }) => fake.handle(request, basePath))];
}
