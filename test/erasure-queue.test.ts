import { execFileSync } from "node:child_process";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { pseudonymizeHwid } from "../lib/events/pseudonymize-hwid.ts";
import { systemClock } from "../lib/clock.ts";
import { requestErasure } from "../lib/http/endpoints/request-erasure.ts";
import { ErasureQueueFullError, ErasureRequests } from "../lib/lifecycle/erasure-requests.ts";
import { hwidForms } from "../lib/events/hwid-forms.ts";
import { exportInstall } from "../lib/lifecycle/export-install.ts";
import { openRepository } from "../lib/storage/open-repository.ts";
import { loadConfig } from "../lib/config.ts";
import { ndjsonLine } from "../lib/storage/ndjson-line.ts";
import type { BlobStore } from "../lib/spool/blob-store.ts";
import type { GitGitHub } from "./support/git-github/index.ts";
import { describe, expect, test } from "./support/fixtures.ts";

let sequence = 0;
function eventOf(day: string, hwid: string): StoredEvent {
  sequence += 1;
  return {
    event_id: `00000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    created_at: `${day}T01:00:00.${String(sequence % 1000).padStart(3, "0")}Z`,
    ip: null,
    hwid,
    event_name: "app_launch",
    app_version: "1.0.0",
    client_type: "vector-inspector",
    metadata: { n: sequence },
  };
}

/** Each of `hwids` with two lines a day over `days`, a file a day, as the store writes lines. */
function filesOf(days: readonly string[], hwids: readonly string[]): Map<string, string> {
  return new Map(
    days.map((day) => [
      `telemetry/${day.replaceAll("-", "/")}/0001.ndjson`,
      hwids.flatMap((hwid) => [eventOf(day, hwid), eventOf(day, hwid)].map(ndjsonLine)).join(""),
    ]),
  );
}

function linesAtHead(stand: GitGitHub): string[] {
  const git = (...args: string[]) =>
    execFileSync("git", args, { env: { ...process.env, GIT_DIR: stand.gitDir }, encoding: "utf8" });
  return git("ls-tree", "-r", "--name-only", "main")
    .split("\n")
    .filter((path) => path.endsWith(".ndjson"))
    .flatMap((path) => git("show", `main:${path}`).split("\n").filter(Boolean));
}

const downloads = (stand: GitGitHub) => stand.requests.filter((request) => request.path.includes("/_codeload/")).length;

const it = test
  .extend("served", async ({ serveGitGitHub, days }) => {
    const served = await serveGitGitHub();
    served.stand.seed(filesOf(days.last(3), ["install-a", "install-b"]));
    return served;
  })
  .extend("stand", ({ served }) => served.stand);

describe("erasure requests: one per install, one run at a time", () => {
  it("a second request for a waiting install is the same request", async ({ served, runtimeOf }) => {
    const runtime = runtimeOf(served.env);
    const first = await runtime.erasure!.requests.submit(["install-b"]);
    const second = await runtime.erasure!.requests.submit(["install-b"]);
    expect(second.request_id).toBe(first.request_id);
    expect(await runtime.erasure!.requests.pending()).toHaveLength(1);
  });

  it("a full queue refuses a new request, and still answers one for a waiting install", async ({ spoolStore }) => {
    const requests = new ErasureRequests(spoolStore, systemClock, "a key", 2);
    const first = await requests.submit(["install-a"]);
    await requests.submit(["install-b"]);
    await expect(requests.submit(["install-c"])).rejects.toBeInstanceOf(ErasureQueueFullError);
    expect((await requests.submit(["install-a"])).request_id).toBe(first.request_id);
    expect(await requests.pending(1)).toHaveLength(1);
  });

  it("answers a request past the full queue 429 erasure_queue_full with Retry-After, as JSON, and still a waiting install's with its id", async ({
    served,
    runtimeOf,
    spoolStore,
  }) => {
    const runtime = runtimeOf(served.env);
    const requests = new ErasureRequests(spoolStore, systemClock, "a key", 2);
    const small = { ...runtime, erasure: { ...runtime.erasure!, requests } };
    const ask = async (hwid: string) => {
      const response = await requestErasure(
        new Request("https://telemetry.example/api/v1/erasure", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ hwid }),
        }),
        { runtime: small, startErasure: async () => {} },
      );
      return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() };
    };
    const first = await ask("install-a");
    expect(first.status).toBe(202);
    expect((await ask("install-b")).status).toBe(202);
    const refused = await ask("install-c");
    expect(refused).toMatchObject({ status: 429, retryAfter: "600", body: { error: "erasure_queue_full" } });
    expect(await ask("install-a")).toMatchObject({ status: 202, body: { request_id: first.body.request_id } });
    expect(await requests.waiting()).toBe(2);
  });

  it("however many requests arrive, they start one run each 5 minutes at most", async ({ served, runtimeOf }) => {
    let now = Date.parse("2026-12-01T00:00:00Z");
    const clock = { ...systemClock, now: () => now };
    const runtime = runtimeOf(served.env, { clock });
    let started = 0;
    const start = async () => void (started += 1);
    for (let i = 0; i < 30; i += 1, now += 9_000) await runtime.erasure!.wake(start);
    expect(started).toBe(1);
    now += 30_000;
    expect(await runtime.erasure!.wake(start)).toBe(true);
    expect(await runtime.erasure!.wake(start)).toBe(false);
    expect(started).toBe(2);
  });

  it("two runs at once do each request once: the log keeps the lines the run that did it removed", async ({
    served,
    stand,
    runtimeOf,
    spoolStore,
  }) => {
    const runtime = runtimeOf(served.env);
    const { request_id: id } = await runtime.erasure!.requests.submit(["install-b"]);
    const runs = await Promise.all([runtime.erasure!.run(60_000), runtimeOf(served.env).erasure!.run(60_000)]);
    expect(runs.map((run) => run.outcome).sort()).toEqual(["erased", "running"]);
    const log = (await spoolStore.get(`erasure/done/${id}`, { type: "json" })) as { lines_removed: number };
    expect(log.lines_removed).toBe(6);
    expect(linesAtHead(stand).some((line) => line.includes("install-b"))).toBe(false);
  });

  it("never holds the flusher's lease while it downloads the archive, and a busy lease leaves the request waiting", async ({
    served,
    stand,
    runtimeOf,
  }) => {
    const runtime = runtimeOf(served.env);
    const handle = stand.handle.bind(stand);
    const held: boolean[] = [];
    stand.handle = async (request) => {
      if (request.url.includes("/_codeload/")) held.push((await runtime.spool!.lease.read()).holder !== null);
      return handle(request);
    };
    await runtime.erasure!.requests.submit(["install-b"]);
    expect((await runtime.erasure!.run(60_000)).outcome).toBe("erased");
    expect(held).toEqual([false]);

    // A flusher that holds the lease for good: the run tries briefly, and the request waits.
    const other = runtimeOf(served.env);
    expect(await other.spool!.lease.acquire()).toBeDefined();
    const { request_id: id } = await runtime.erasure!.requests.submit(["install-a"]);
    expect((await runtime.erasure!.run(14 * 60_000)).outcome).toBe("busy");
    expect(await runtime.erasure!.requests.status(id)).toMatchObject({ status: "pending" });
  });

  it("an id never stored is done with 0 lines and no archive download, once the index is built", async ({
    served,
    stand,
    runtimeOf,
    days,
  }) => {
    const runtime = runtimeOf(served.env);
    await runtime.erasure!.requests.submit(["install-a"]);
    expect((await runtime.erasure!.run(60_000)).archive_downloads).toBe(1);
    // An install the flusher stores after the index was built is marked, and found.
    await runtime.spool!.spool.add([eventOf(days.today, "install-new")]);
    await runtime.spool!.flush(10_000);
    const before = downloads(stand);
    const { request_id: unknown } = await runtime.erasure!.requests.submit(["never-stored"]);
    const run = await runtime.erasure!.run(60_000);
    expect(run).toMatchObject({ outcome: "erased", unknown: 1, archive_downloads: 0 });
    expect(downloads(stand)).toBe(before);
    expect(await runtime.erasure!.requests.status(unknown)).toMatchObject({ status: "done", lines_removed: 0 });
    await runtime.erasure!.requests.submit(["install-new"]);
    expect(await runtime.erasure!.run(60_000)).toMatchObject({ unknown: 0, lines_removed: 1 });
    expect(linesAtHead(stand).some((line) => line.includes("install-new"))).toBe(false);
  });

  it("yields to the flusher when events wait longer than its pace", async ({ served, runtimeOf, days }) => {
    const runtime = runtimeOf(served.env);
    const earlier = runtimeOf(served.env, {
      clock: { now: () => Date.now() - 10 * 60_000, sleep: async () => {}, timeout: (ms) => AbortSignal.timeout(ms) },
    });
    await earlier.spool!.spool.add([eventOf(days.today, "install-a")]);
    const { request_id: id } = await runtime.erasure!.requests.submit(["install-b"]);
    expect((await runtime.erasure!.run(60_000)).outcome).toBe("yielded");
    expect(await runtime.erasure!.requests.status(id)).toMatchObject({ status: "pending" });
  });

  it("a run out of time commits the days it read, and the next goes on from the day it stopped at", async ({
    served,
    stand,
    runtimeOf,
  }) => {
    // Every archive download takes 65 s of the run's clock: a 100 s budget reads one day a run.
    let offset = 0;
    const clock = {
      now: () => Date.now() + offset,
      sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
      timeout: (ms: number) => AbortSignal.timeout(ms),
    };
    const handle = stand.handle.bind(stand);
    stand.handle = async (request) => {
      if (request.url.includes("/_codeload/")) offset += 65_000;
      return handle(request);
    };
    const runtime = runtimeOf(served.env, { clock });
    const { request_id: id } = await runtime.erasure!.requests.submit(["install-b"]);
    const outcomes: string[] = [];
    for (let i = 0; i < 5 && (await runtime.erasure!.requests.status(id))?.status === "pending"; i += 1) {
      const run = await runtime.erasure!.run(100_000);
      outcomes.push(`${run.outcome} ${run.lines_removed}`);
    }
    expect(outcomes).toEqual(["partial 2", "partial 2", "erased 2"]);
    expect(await runtime.erasure!.requests.status(id)).toMatchObject({ status: "done", lines_removed: 6 });
    expect(linesAtHead(stand).some((line) => line.includes("install-b"))).toBe(false);
  });
});

describe("erasure with TELEMETRY_HISTORY=squash", () => {
  it("a squash that fails after the commit leaves the request waiting; the next run squashes with no line to remove", async ({
    served,
    stand,
    runtimeOf,
  }) => {
    const runtime = runtimeOf({ ...served.env, TELEMETRY_HISTORY: "squash" });
    // From the moment the erasure's commit is on the branch, GitHub answers every write 502.
    let failing = false;
    const handle = stand.handle.bind(stand);
    stand.handle = async (request) => {
      if (failing && request.method !== "GET") return new Response('{"message":"Bad gateway"}', { status: 502 });
      const answer = await handle(request);
      if (request.method === "PATCH" && answer.status === 200) failing = true;
      return answer;
    };
    const { request_id: id } = await runtime.erasure!.requests.submit(["install-b"]);
    const first = await runtime.erasure!.run(60_000);
    expect(first).toMatchObject({ outcome: "failed", lines_removed: 6 });
    expect(await runtime.erasure!.requests.status(id)).toMatchObject({ status: "pending" });

    failing = false;
    stand.handle = handle;
    const second = await runtime.erasure!.run(60_000);
    expect(second).toMatchObject({
      outcome: "erased",
      lines_removed: 0,
      squashed: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(await runtime.erasure!.requests.status(id)).toMatchObject({ status: "done", lines_removed: 6 });
    const git = (...args: string[]) =>
      execFileSync("git", args, { env: { ...process.env, GIT_DIR: stand.gitDir }, encoding: "utf8" });
    expect(git("rev-list", "--count", "main").trim()).toBe("1");
  });
});

describe("erasure and export find every stored form of an id", () => {
  it("an id holding U+2028, U+2029 or U+0085 is matched on the form the store writes", async ({
    serveGitGitHub,
    runtimeOf,
    days,
  }) => {
    const odd = "install\u2028with\u2029breaks\u0085";
    const { stand, env } = await serveGitGitHub();
    stand.seed(filesOf(days.last(2), [odd, "install-a"]));
    const runtime = runtimeOf(env);
    const { files } = openRepository(loadConfig(env), runtime.clock);
    const exported: string[] = [];
    await exportInstall(files, { prefix: "telemetry", hwids: [odd], deadline: Date.now() + 60_000 }, (line) => {
      exported.push(line);
    });
    expect(exported).toHaveLength(4);
    await runtime.erasure!.requests.submit([odd]);
    expect(await runtime.erasure!.run(60_000)).toMatchObject({ outcome: "erased", lines_removed: 4 });
    expect(linesAtHead(stand)).toHaveLength(4);
  });

  it("hash mode: lines stored raw, hashed, and hashed under the previous salt are all erased and exported", async ({
    serveGitGitHub,
    runtimeOf,
    days,
  }) => {
    const salt = "the-current-salt-0123456789";
    const previous = "the-previous-salt-0123456789";
    const hashed = pseudonymizeHwid("install-b", "hash", salt);
    const old = pseudonymizeHwid("install-b", "hash", previous);
    const { stand, env } = await serveGitGitHub();
    stand.seed(filesOf(days.last(3), ["install-b", hashed, old, "install-a"]));
    const hashEnv = {
      ...env,
      TELEMETRY_HWID_MODE: "hash",
      TELEMETRY_HWID_SALT: salt,
      TELEMETRY_HWID_PREVIOUS_SALT: previous,
    };
    const config = loadConfig(hashEnv);
    const forms = hwidForms("install-b", config.ingest);
    expect(forms).toEqual([hashed, "install-b", old]);
    const runtime = runtimeOf(hashEnv);
    const { files } = openRepository(config, runtime.clock);
    let exported = 0;
    await exportInstall(files, { prefix: "telemetry", hwids: forms, deadline: Date.now() + 60_000 }, () => {
      exported += 1;
    });
    expect(exported).toBe(18);
    await runtime.erasure!.requests.submit(forms);
    expect(await runtime.erasure!.run(60_000)).toMatchObject({ outcome: "erased", lines_removed: 18 });
    expect(linesAtHead(stand)).toHaveLength(6);
  });
});

describe("hash mode, where the stored ids can be read", () => {
  it("a request naming a stored hash erases nothing: only the id a client sends finds its lines", async ({
    serveGitGitHub,
    runtimeOf,
    days,
  }) => {
    const salt = "the-current-salt-0123456789";
    const stored = pseudonymizeHwid("victim-install", "hash", salt);
    const { stand, env } = await serveGitGitHub();
    stand.seed(filesOf(days.last(2), [stored, pseudonymizeHwid("install-a", "hash", salt)]));
    const runtime = runtimeOf({ ...env, TELEMETRY_HWID_MODE: "hash", TELEMETRY_HWID_SALT: salt });
    const ask = (hwid: string) =>
      requestErasure(
        new Request("https://telemetry.example/api/v1/erasure", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ hwid }),
        }),
        { runtime, startErasure: async () => {} },
      );
    // What a public repository shows is the hash: a stranger sends it as the id.
    expect((await ask(stored)).status).toBe(202);
    await runtime.erasure!.run(60_000);
    expect(linesAtHead(stand).filter((line) => line.includes(stored))).toHaveLength(4);
    // The install itself, sending its id, is erased.
    expect((await ask("victim-install")).status).toBe(202);
    expect(await runtime.erasure!.run(60_000)).toMatchObject({ outcome: "erased", lines_removed: 4 });
    expect(linesAtHead(stand).some((line) => line.includes(stored))).toBe(false);
  });
});

/** A Blobs store that runs `hook` once, after the first listing of `prefix`. */
function hookedStore(store: BlobStore, prefix: string, hook: () => Promise<unknown>): BlobStore {
  let fired = false;
  return {
    get: (key, options) => store.get(key, options),
    setJSON: (key, value, options) => store.setJSON(key, value, options),
    delete: (key) => store.delete(key),
    list: async (options) => {
      const listed = await store.list(options);
      if (options.prefix === prefix && !fired) {
        fired = true;
        await hook();
      }
      return listed;
    },
  };
}

describe("erasure beside the flusher", () => {
  it("an install first stored between the index check and the lease is not answered done: the next run finds its lines", async ({
    served,
    stand,
    runtimeOf,
    spoolStore,
    days,
  }) => {
    const flusher = runtimeOf(served.env);
    // A first run reads the whole branch and declares the install index complete.
    await flusher.erasure!.requests.submit(["install-a"]);
    expect((await flusher.erasure!.run(60_000)).outcome).toBe("erased");
    // The install's first events wait in the spool when it asks; a flush stores them right after the run checked the index.
    await flusher.spool!.spool.add([eventOf(days.today, "install-late")]);
    const racing = hookedStore(spoolStore, "erasure/seen-log/", () => flusher.spool!.flush(10_000));
    const eraser = runtimeOf(served.env, { blobs: racing });
    const { request_id: id } = await eraser.erasure!.requests.submit(["install-late"]);
    await eraser.erasure!.run(60_000);
    expect(linesAtHead(stand).filter((line) => line.includes("install-late"))).toHaveLength(1);
    expect(await eraser.erasure!.requests.status(id)).toMatchObject({ status: "pending" });

    expect(await eraser.erasure!.run(60_000)).toMatchObject({ outcome: "erased", lines_removed: 1 });
    expect(await eraser.erasure!.requests.status(id)).toMatchObject({ status: "done", lines_removed: 1 });
    expect(linesAtHead(stand).some((line) => line.includes("install-late"))).toBe(false);
  });

  it("holds the flusher's lease only for what must not race a flush: a page of ids never stored costs a few Blobs calls under it", async ({
    served,
    runtimeOf,
    spoolStore,
  }) => {
    const runtime = runtimeOf(served.env);
    await runtime.erasure!.requests.submit(["install-a"]);
    await runtime.erasure!.run(60_000);
    const ids = Array.from({ length: 200 }, (_, i) => `never-stored-${i}`);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map((id) => runtime.erasure!.requests.submit([id])));
    }
    // Blobs calls between the lease's first write (taken) and its last (released), the lease's own left out.
    const calls: string[] = [];
    const store: BlobStore = spoolStore;
    const counted: BlobStore = {
      get: (key, options) => (calls.push(key), store.get(key, options)),
      setJSON: (key, value, options) => (calls.push(key), store.setJSON(key, value, options)),
      delete: (key) => (calls.push(key), store.delete(key)),
      list: (options) => (calls.push(options.prefix), store.list(options)),
    };
    const run = await runtimeOf(served.env, { blobs: counted }).erasure!.run(60_000);
    expect(run).toMatchObject({ outcome: "erased", unknown: 200, done: 200, archive_downloads: 0 });
    const taken = calls.indexOf("flusher/lease");
    const released = calls.lastIndexOf("flusher/lease");
    const underLease = calls.slice(taken, released).filter((key) => !key.startsWith("flusher/lease"));
    expect(underLease.length).toBeLessThan(60);
  });
});
