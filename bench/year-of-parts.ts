/**
 * A year at a million events a day, as the data layout and the writer's listings see it: every
 * day's parts at the default cap (file names and sizes real, contents synthetic), a month at a
 * time in the GitHub simulator, which lists folders as GitHub does (1,000 entries at most); then,
 * for each day, the real GitHub store appends to it, and what it listed is noted.
 */
import { DAY_MS } from "../lib/day.ts";
import { toStoredEvent } from "../lib/events/stored-event.ts";
import { GitHubAdapter } from "../lib/storage/github/github-adapter.ts";
import { GitHubStore } from "../lib/storage/github/github-store.ts";
import { partitionOf, partPath } from "../lib/storage/layout/partition.ts";
import { FakeGitHub, serveFakeGitHub, type RequestRecord } from "../test/support/fake-github/index.ts";

const EVENTS_PER_DAY = 1_000_000;
/** A stored line of the Vector Inspector client, as the README's figures count one. */
const LINE_BYTES = 330;
const MAX_FILE_BYTES = 1024 * 1024;
const DAYS = 365;
const YEAR_START = Date.UTC(2027, 0, 1);
const GITHUB = { token: "year-token", owner: "acme", repo: "telemetry-data" };
/** What the contents API lists of one folder at most. */
const LISTING_LIMIT = 1000;

export interface YearFigures {
  parts: number;
  /** The most entries in any folder of the repository, and in the month folder the old layout would have. */
  mostInFolder: number;
  mostInOldMonthFolder: number;
  /** The most entries in any listing the writer made, and the listings that came back cut at the limit. */
  mostInListing: number;
  truncatedListings: number;
  listings: number;
}

export async function yearOfParts(): Promise<YearFigures> {
  const partsPerDay = Math.ceil((EVENTS_PER_DAY * LINE_BYTES) / MAX_FILE_BYTES);
  const figures: YearFigures = {
    parts: 0,
    mostInFolder: 0,
    mostInOldMonthFolder: 0,
    mostInListing: 0,
    truncatedListings: 0,
    listings: 0,
  };
  const days = Array.from({ length: DAYS }, (_, n) => new Date(YEAR_START + n * DAY_MS).toISOString());
  const months = new Map<string, string[]>();
  for (const day of days) months.set(day.slice(0, 7), [...(months.get(day.slice(0, 7)) ?? []), day]);
  for (const monthDays of months.values()) {
    const github = new FakeGitHub({ ...GITHUB });
    // The last part of a day is short: the writer appends to it.
    github.seedAll(
      monthDays.flatMap((day) =>
        Array.from({ length: partsPerDay }, (_, n): [string, string] => [
          partPath(partitionOf(day, "telemetry"), n + 1),
          n + 1 < partsPerDay ? "{}\n" : "",
        ]),
      ),
    );
    figures.parts += monthDays.length * partsPerDay;
    figures.mostInFolder = Math.max(figures.mostInFolder, mostInAnyFolder(github.paths()));
    figures.mostInOldMonthFolder = Math.max(figures.mostInOldMonthFolder, monthDays.length * partsPerDay);
    const server = await serveFakeGitHub(github);
    const store = new GitHubStore(
      new GitHubAdapter({
        credentials: { kind: "token", token: GITHUB.token },
        ...GITHUB,
        branch: undefined,
        apiUrl: server.url,
      }),
      "telemetry",
      MAX_FILE_BYTES,
    );
    for (const day of monthDays) {
      const event = toStoredEvent(
        { hwid: "install", event_name: "app_launch", app_version: "1.4.0" },
        { eventId: crypto.randomUUID(), createdAt: new Date(day), ip: null },
      );
      await store.commit([[event]], { deadline: Date.now() + 30_000 });
    }
    for (const listing of github.requests.filter(isListing)) {
      figures.listings += 1;
      figures.mostInListing = Math.max(figures.mostInListing, listing.entries!);
      if (listing.entries! >= LISTING_LIMIT) figures.truncatedListings += 1;
    }
    await server.close();
  }
  return figures;
}

function isListing(request: RequestRecord): boolean {
  return request.entries !== undefined;
}

function mostInAnyFolder(paths: readonly string[]): number {
  const entries = new Map<string, Set<string>>();
  for (const path of paths) {
    const parts = path.split("/");
    for (let depth = 0; depth < parts.length; depth += 1) {
      const folder = parts.slice(0, depth).join("/");
      const children = entries.get(folder) ?? new Set<string>();
      children.add(parts[depth]!);
      entries.set(folder, children);
    }
  }
  return Math.max(...[...entries.values()].map((children) => children.size));
}
