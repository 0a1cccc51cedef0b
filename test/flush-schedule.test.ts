import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { listFunctions } from "@netlify/zip-it-and-ship-it";
import { jobEndpoints } from "../lib/http/endpoints/job-endpoints.ts";
import type { BlobStore } from "../lib/spool/blob-store.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { describe, expect, it, type ReadyRuntime } from "./support/fixtures.ts";
import { scaledClock } from "../bench/scaled-clock.ts";

/**
 * The safety net's schedule (`flush-spool`): it runs every minute, so that what a crashed flush
 * left waits a minute at most; when nothing waits it writes nothing, and when it finds events a
 * crashed or held-back flush left, it drains them by handing over to woken flushes, not by
 * waiting for its next run.
 */
const MONTH_MINUTES = 30 * 24 * 60;

/** A store that counts the writes made through it. */
function countingWrites(store: BlobStore): { store: BlobStore; writes: () => number } {
  let writes = 0;
  return {
    writes: () => writes,
    store: {
      get: (key, options) => store.get(key, options),
      list: (options) => store.list(options),
      setJSON: (key, value, options) => {
        writes += 1;
        return store.setJSON(key, value, options);
      },
      delete: (key) => {
        writes += 1;
        return store.delete(key);
      },
    },
  };
}

/**
 * The site as Netlify serves the flush function: its path answered by the `flush` job, each call on
 * an instance of its own (a Lambda instance serves one call at a time; a call during another gets another).
 */
async function serveFlushFunction(
  instance: () => ReadyRuntime,
): Promise<{ url: string; calls: () => number; close(): void }> {
  let calls = 0;
  const server = createServer((req, res) => {
    calls += 1;
    const key = req.headers["x-telemetry-key"];
    const request = new Request(new URL(req.url ?? "/", `http://${req.headers.host}`), {
      method: req.method ?? "GET",
      headers: typeof key === "string" ? { "x-telemetry-key": key } : {},
    });
    void jobEndpoints.flush
      .called(request, { runtime: instance(), invocation: { waitUntil: () => {} } })
      .then(async (response) => {
        res.writeHead(response.status, { "content-type": "application/json" });
        res.end(await response.text());
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: () => server.close(),
  };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`still not so after 60 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the flush-spool schedule", () => {
  it("runs every minute, as Netlify's bundler reads the function: 43,200 invocations a month", async () => {
    const functions = await listFunctions([new URL("../netlify/functions", import.meta.url).pathname], {
      parseISC: true,
    });
    const schedule = functions.find((fn) => fn.name === "flush-spool")?.schedule;
    expect(schedule).toBe("* * * * *");
    expect(MONTH_MINUTES).toBe(43_200);
  });

  it("writes nothing to Blobs when nothing waits (no lease taken, no flush reported)", async ({
    serveGitHub,
    runtimeOf,
    spoolStore,
  }) => {
    const { env } = await serveGitHub({ empty: true });
    const counted = countingWrites(spoolStore);
    const runtime = runtimeOf(env, { blobs: counted.store });
    const response = await jobEndpoints.flush.scheduled(
      new Request("https://telemetry.example/.netlify/functions/flush-spool", { method: "POST" }),
      { runtime, invocation: { waitUntil: () => {} } },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", flush: null });
    expect(counted.writes()).toBe(0);
    expect((await runtime.spool!.lease.read()).last_flush ?? null).toBeNull();
  });

  it("drains what a rate limit held back by handing over to woken flushes, without another scheduled run", async ({
    serveGitHub,
    runtimeOf,
  }) => {
    const clock = scaledClock(10);
    const { env, fake } = await serveGitHub({ empty: true, now: () => clock.now() });
    const runtime = runtimeOf(env, { clock });
    const site = await serveFlushFunction(() => runtimeOf(env, { clock }));
    try {
      // Accepted while the woken flush that should store them crashed: nothing but the schedule will look.
      for (let n = 0; n < 5; n += 1) {
        const answer = await ingest(
          new Request(`${site.url}/api/v1/telemetry`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ hwid: "h", event_name: "app_launch", app_version: "1.0.0", metadata: { n } }),
          }),
          { runtime, startFlush: async () => {} },
        );
        expect(answer.status).toBe(201);
      }
      // GitHub's secondary limit (the stand-in says retry after 60 s): longer than a scheduled run's 25 s.
      fake.secondaryLimitFor(40_000);
      const response = await jobEndpoints.flush.scheduled(
        new Request(`${site.url}/.netlify/functions/flush-spool`, { method: "POST" }),
        { runtime, invocation: { waitUntil: () => {} } },
      );
      expect(response.status).toBe(200);
      const stored = () =>
        fake.paths().flatMap((path) => (fake.file(path) ?? "").split("\n").filter(Boolean)).length === 5;
      await waitFor(stored, "the five events stored");
      await waitFor(async () => (await runtime.spool!.spool.oldest(1)).length === 0, "the spool empty");
      expect(site.calls()).toBeGreaterThan(0);
    } finally {
      site.close();
    }
  });
});
