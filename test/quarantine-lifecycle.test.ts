import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { systemClock } from "../lib/clock.ts";
import { DAY_MS } from "../lib/day.ts";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { pseudonymizeHwid } from "../lib/events/pseudonymize-hwid.ts";
import { Quarantine } from "../lib/spool/quarantine.ts";
import { dataFolder, dayFiles } from "./support/data-folder.ts";
import { describe, expect, it } from "./support/fixtures.ts";
import { runCli } from "./support/run-cli.ts";

const ERASED = "install-b";
const REFUSED = "GitHub's push protection refused the commit: example_secret";

function eventOf(hwid: string, day = new Date().toISOString().slice(0, 10)): StoredEvent {
  return {
    event_id: randomUUID(),
    created_at: `${day}T01:00:00.000Z`,
    ip: null,
    hwid,
    event_name: "app_launch",
    app_version: "1.0.0",
    client_type: "vector-inspector",
    metadata: { note: "pasted SCAN-ME-123456 by mistake" },
  };
}

/** Sets `event` aside as the flusher does when GitHub's push protection refuses it: under its entry's key and id. */
async function setAside(quarantine: Quarantine, event: StoredEvent, accepted = Date.now()): Promise<string> {
  const entry = `pending/${String(Math.floor(accepted / 60_000)).padStart(10, "0")}/${String(accepted).padStart(15, "0")}-1-${randomUUID()}`;
  await quarantine.setAside(`${entry}/${event.event_id}`, event, [{ path: "body", message: REFUSED }]);
  return `quarantine/${entry}/${event.event_id}`;
}

describe("the quarantine in an install's erasure", () => {
  it("removes the install's quarantined events with its stored lines, counts them in the run's report, and keeps the others'", async ({
    serveGitHub,
    runtimeOf,
    spoolStore,
  }) => {
    const { env } = await serveGitHub({ empty: true });
    const runtime = runtimeOf(env);
    const quarantine = runtime.spool!.spool.quarantine;
    await setAside(quarantine, eventOf(ERASED));
    await setAside(quarantine, eventOf(ERASED));
    const kept = await setAside(quarantine, eventOf("install-a"));
    await runtime.erasure!.requests.submit([ERASED]);

    const run = await runtime.erasure!.run(60_000);
    expect(run).toMatchObject({ outcome: "erased", quarantined_events_dropped: 2, error: null });
    const { blobs } = await spoolStore.list({ prefix: "quarantine/" });
    expect(blobs.map(({ key }) => key)).toEqual([kept]);
  });

  it("in hash mode, matches the stored (hashed) id the request carries", async ({
    serveGitHub,
    runtimeOf,
    spoolStore,
  }) => {
    const { env } = await serveGitHub({ empty: true });
    const salt = "quarantine-salt-0123456789";
    const runtime = runtimeOf({ ...env, TELEMETRY_HWID_MODE: "hash", TELEMETRY_HWID_SALT: salt });
    const hashed = pseudonymizeHwid(ERASED, "hash", salt);
    await setAside(runtime.spool!.spool.quarantine, eventOf(hashed));
    // As the endpoint submits it: the stored form.
    await runtime.erasure!.requests.submit([hashed]);

    expect(await runtime.erasure!.run(60_000)).toMatchObject({ quarantined_events_dropped: 1 });
    expect((await spoolStore.list({ prefix: "quarantine/" })).blobs).toEqual([]);
  });
});

describe("the quarantine's expiry", () => {
  it("runs with flush-spool's housekeeping: what was set aside 30 days ago goes, the rest stays", async ({
    serveGitHub,
    runtimeOf,
    spoolStore,
  }) => {
    const { env } = await serveGitHub({ empty: true });
    const now = Date.now();
    const at = (time: number) => ({ ...systemClock, now: () => time });
    await setAside(new Quarantine(spoolStore, at(now - 31 * DAY_MS)), eventOf("a"), now - 31 * DAY_MS);
    const recent = await setAside(new Quarantine(spoolStore, at(now - DAY_MS)), eventOf("b"), now - DAY_MS);

    await runtimeOf(env).spool!.prune();
    expect((await spoolStore.list({ prefix: "quarantine/" })).blobs.map(({ key }) => key)).toEqual([recent]);
  });
});

describe("telemetry export and the quarantine", () => {
  it("adds the install's quarantined events after its stored lines, each marked as quarantined with GitHub's reason", async ({
    blobs,
    tempDir,
  }) => {
    const stored = [eventOf(ERASED), eventOf("install-a")];
    const dir = await dataFolder(dayFiles(stored, { parts: 1 }));
    const refused = eventOf(ERASED);
    // The site's spool store, as the CLI opens it with the Blobs context it is given.
    await setAside(new Quarantine(blobs.store(), systemClock), refused);
    await setAside(new Quarantine(blobs.store(), systemClock), eventOf("install-a"));
    const context = { siteID: blobs.siteID, token: blobs.token, edgeURL: blobs.url, uncachedEdgeURL: blobs.url };
    const out = join(await tempDir("export-"), "export.ndjson");

    const { code, stderr } = await runCli(["export", "--hwid", ERASED, "--data", dir, "--out", out], {
      NETLIFY_BLOBS_CONTEXT: Buffer.from(JSON.stringify(context)).toString("base64"),
    });
    expect(code, stderr).toBe(0);
    const lines = (await readFile(out, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(JSON.stringify(stored[0]));
    expect(JSON.parse(lines[1]!)).toEqual({
      quarantined: true,
      set_aside_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      issues: [{ path: "body", message: REFUSED }],
      event: refused,
    });
    expect(stderr).toMatch(/^telemetry: 1 event\(s\) and 1 quarantined event\(s\) of the 1 install\(s\) asked for/);
  });

  it("says so when it cannot read the quarantine (no Netlify Blobs context), and exports the stored lines", async () => {
    const stored = [eventOf(ERASED)];
    const dir = await dataFolder(dayFiles(stored, { parts: 1 }));
    const { code, stdout, stderr } = await runCli(["export", "--hwid", ERASED, "--data", dir]);
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(`${JSON.stringify(stored[0])}\n`);
    expect(stderr).toContain("quarantine not read");
  });
});
