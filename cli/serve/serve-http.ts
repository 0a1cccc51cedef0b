import { systemClock } from "../../lib/clock.ts";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { dayOf } from "../../lib/day.ts";
import { ExploreError } from "../../lib/explore/explore-error.ts";
import { exploreQuery, type ExploreQuery } from "../../lib/explore/explore-query.ts";
import type { Explorer } from "../../lib/explore/explorer.ts";
import { messageOf } from "../../lib/log.ts";
import type { ReadProgress } from "./read-progress.ts";

const PAGE_DIR = fileURLToPath(new URL("./page/", import.meta.url));
/** The page's own files, by path: nothing else of the folder is served. */
const PAGE_FILES: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/page.js": ["page.js", "text/javascript; charset=utf-8"],
  "/page.css": ["page.css", "text/css; charset=utf-8"],
};
/** The chart libraries, from node_modules: the page loads nothing from elsewhere and works offline. */
const VENDOR_FILES: Record<string, [pkg: string, file: string]> = {
  "/vendor/vega.min.js": ["vega", "vega.min.js"],
  "/vendor/vega-lite.min.js": ["vega-lite", "vega-lite.min.js"],
  "/vendor/vega-embed.min.js": ["vega-embed", "vega-embed.min.js"],
};
const JS = "text/javascript; charset=utf-8";

/** What the page's API answers, by path. */
type Route = (query: ExploreQuery) => Promise<unknown>;

export interface ServeOptions {
  explorer: Explorer;
  progress: ReadProgress;
  /** The ingest state, when a site was named (--url). */
  ingest?: () => Promise<unknown>;
}

/**
 * The interactive dashboard's server: the page, its scripts, and its API in JSON. A refused question (an
 * ExploreError) is answered with its status and `{ error }`; anything else with a 500 and the same shape.
 */
export function serveHttp({ explorer, progress, ingest }: ServeOptions): Server {
  const routes: Record<string, Route> = {
    "/api/figures": (query) => explorer.figures(query),
    "/api/error-group": (query) => explorer.errorGroup(query),
    "/api/breakdown": (query) => explorer.breakdown(query),
  };
  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof ExploreError ? error.status : 500;
      sendJson(response, status, { error: messageOf(error) });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method !== "GET") throw new ExploreError(405, "only GET is served");
    const page = PAGE_FILES[url.pathname];
    if (page) return send(response, page[1], await readFile(join(PAGE_DIR, page[0])));
    const vendor = VENDOR_FILES[url.pathname];
    if (vendor) {
      const dir = dirname(fileURLToPath(import.meta.resolve(vendor[0])));
      return send(response, JS, await readFile(join(dir, vendor[1])));
    }
    if (url.pathname === "/api/progress") return sendJson(response, 200, { reading_bytes: progress.bytes });
    if (url.pathname === "/api/ingest") {
      // No site named (--url): nothing to show, which the page takes as no section.
      return sendJson(response, 200, ingest ? await ingest() : { checks: null });
    }
    const route = routes[url.pathname];
    if (!route) throw new ExploreError(404, `nothing at ${url.pathname}`);
    sendJson(response, 200, await route(exploreQuery(url.searchParams, dayOf(systemClock.now()))));
  }
}

function send(response: ServerResponse, type: string, body: Buffer): void {
  response.writeHead(200, { "content-type": type, "cache-control": "no-cache" }).end(body);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}
