/**
 * A flusher in a process of its own, so that a test can kill it (SIGKILL) at a chosen point of its
 * write and show what its successor finds. Argument: JSON with the Blobs server and GitHub to use.
 */
import { getStore } from "@netlify/blobs";
import { systemClock } from "../../lib/clock.ts";
import { FlushLease } from "../../lib/spool/flush-lease.ts";
import { Flusher } from "../../lib/spool/flusher.ts";
import { GitHubAdapter } from "../../lib/storage/github/github-adapter.ts";
import { GitHubStore } from "../../lib/storage/github/github-store.ts";
import { Spool } from "../../lib/spool/spool.ts";

interface ChildConfig {
  blobs: { url: string; token: string; siteID: string; name: string };
  github: { url: string; token: string; owner: string; repo: string };
  leaseTtlMs: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as ChildConfig;
const blobs = getStore({
  name: config.blobs.name,
  siteID: config.blobs.siteID,
  token: config.blobs.token,
  edgeURL: config.blobs.url,
  uncachedEdgeURL: config.blobs.url,
  consistency: "strong",
});
const store = new GitHubStore(
  new GitHubAdapter({
    credentials: { kind: "token", token: config.github.token },
    owner: config.github.owner,
    repo: config.github.repo,
    branch: undefined,
    apiUrl: config.github.url,
  }),
  "telemetry",
  1024 * 1024,
  { waitOnRateLimit: false },
);
await new Flusher({
  blobs,
  spool: new Spool(blobs, systemClock),
  lease: new FlushLease(blobs, systemClock, config.leaseTtlMs),
  store,
  clock: systemClock,
  limits: { perMinute: 60, perHour: 400 },
}).run(10_000);
