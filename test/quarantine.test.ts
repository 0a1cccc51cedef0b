import { randomUUID } from "node:crypto";
import { systemClock, type Clock } from "../lib/clock.ts";
import { DAY_MS } from "../lib/day.ts";
import type { BlobStore } from "../lib/spool/blob-store.ts";
import { Quarantine } from "../lib/spool/quarantine.ts";
import { describe, expect, it, test } from "./support/fixtures.ts";

/** This test's store on the file's Blobs server. */
let spoolStore: BlobStore;

test.beforeEach(({ spoolStore: store }) => {
  spoolStore = store;
});

const NOW = Date.parse("2026-11-23T12:00:00Z");
const REASON = [{ path: "body", message: "GitHub's push protection refused the content: example_secret" }];

function at(now: number): Clock {
  return { ...systemClock, now: () => now };
}

/** A spool entry's key, as the spool names one accepted at `accepted`. */
function entryKey(accepted: number, count = 1): string {
  return `pending/${String(Math.floor(accepted / 60_000)).padStart(10, "0")}/${String(accepted).padStart(15, "0")}-${count}-${randomUUID()}`;
}

function eventOf(hwid: string, note = "SCAN-ME-123456") {
  return { event_id: randomUUID(), created_at: new Date(NOW).toISOString(), hwid, metadata: { note } };
}

async function keys(): Promise<string[]> {
  return (await spoolStore.list({ prefix: "quarantine/" })).blobs.map(({ key }) => key).sort();
}

describe("the quarantine", () => {
  it("keeps what it sets aside with the reason and when, under the entry's key", async () => {
    const quarantine = new Quarantine(spoolStore, at(NOW));
    const key = entryKey(NOW - 5_000);
    const event = eventOf("install-a");
    await quarantine.setAside(`${key}/${event.event_id}`, event, REASON);

    expect(await spoolStore.get(`quarantine/${key}/${event.event_id}`, { type: "json" })).toEqual({
      value: event,
      issues: REASON,
      set_aside_at: NOW,
    });
  });

  it("lists in bounded pages, oldest minute first, every key once", async () => {
    const quarantine = new Quarantine(spoolStore, at(NOW));
    const written: string[] = [];
    for (let minute = 0; minute < 4; minute += 1) {
      const key = entryKey(NOW - minute * 60_000, 60);
      for (let n = 0; n < 60; n += 1) written.push(`quarantine/${key}/${n}`);
    }
    await Promise.all(written.map((key) => spoolStore.setJSON(key, { value: {}, issues: [] })));

    const pages: string[][] = [];
    let after: string | undefined;
    do {
      const page = await quarantine.page(after);
      pages.push(page.keys);
      after = page.next;
    } while (after !== undefined);
    expect(pages.flat().sort()).toEqual(written.sort());
    expect(Math.max(...pages.map((page) => page.length))).toBeLessThan(written.length);
    expect(pages.flat()[0]).toContain(entryKey(NOW - 3 * 60_000).slice(0, 19));
  });

  it("finds and removes the events of given installs by their stored id, whole entries' events too, and nothing else", async () => {
    const quarantine = new Quarantine(spoolStore, at(NOW));
    const hashed = "5f1e0c0d8b1a2c3e4f5a6b7c8d9e0f1a";
    const mine = [eventOf("install-a"), eventOf(hashed)];
    const other = eventOf("install-b");
    const key = entryKey(NOW - 60_000, 3);
    for (const event of [...mine, other]) await quarantine.setAside(`${key}/${event.event_id}`, event, REASON);
    const whole = entryKey(NOW - 120_000, 2);
    const inWhole = eventOf("install-a");
    await quarantine.setAside(whole, { events: [inWhole, other], broken: true }, [{ path: "events", message: "bad" }]);

    const found = await quarantine.eventsOf(["install-a", hashed]);
    // Oldest entry first: the one set aside whole.
    expect(found.map((one) => one.event)).toEqual([inWhole, expect.anything(), expect.anything()]);
    expect(found.map((one) => one.event)).toEqual(expect.arrayContaining(mine));
    expect(found[1]).toMatchObject({ issues: REASON, set_aside_at: NOW });

    expect(await quarantine.removeEventsOf(["install-a", hashed])).toBe(3);
    expect(await quarantine.eventsOf(["install-a", hashed])).toEqual([]);
    expect(await keys()).toEqual([`quarantine/${whole}`, `quarantine/${key}/${other.event_id}`]);
    expect(await spoolStore.get(`quarantine/${whole}`, { type: "json" })).toMatchObject({
      value: { events: [other], broken: true },
    });
  });

  it("expires what was set aside more than 30 days ago, an entry kept before the date was stored by its key's time, a bounded number a run", async () => {
    const old = NOW - 31 * DAY_MS;
    const recent = NOW - 29 * DAY_MS;
    await new Quarantine(spoolStore, at(old)).setAside(`${entryKey(old)}/x`, eventOf("a"), REASON);
    // Accepted long ago, set aside only lately (the spool held it): kept.
    await new Quarantine(spoolStore, at(recent)).setAside(`${entryKey(old - 1)}/y`, eventOf("b"), REASON);
    // Set aside before the date was kept: its key's time dates it.
    const legacy = `quarantine/${entryKey(old - 2)}/z`;
    await spoolStore.setJSON(legacy, { value: eventOf("c"), issues: REASON });
    const kept = `${entryKey(recent)}/w`;
    await new Quarantine(spoolStore, at(recent)).setAside(kept, eventOf("d"), REASON);

    const quarantine = new Quarantine(spoolStore, at(NOW));
    expect(await quarantine.expire(1)).toBe(1);
    expect(await keys()).toHaveLength(3);
    expect(await quarantine.expire(100)).toBe(1);
    expect((await keys()).map((key) => key.split("/").at(-1))).toEqual(expect.arrayContaining(["y", "w"]) as string[]);
    expect(await keys()).toHaveLength(2);
    expect(await quarantine.expire(100)).toBe(0);
  });

  it("counts what waits at most once for each step of notBefore, whatever the checks", async () => {
    const quarantine = new Quarantine(spoolStore, at(NOW));
    await quarantine.setAside(`${entryKey(NOW)}/1`, eventOf("a"), REASON);
    expect(await quarantine.recentCount(NOW - 60_000)).toBe(1);
    await quarantine.setAside(`${entryKey(NOW)}/2`, eventOf("a"), REASON);
    expect(await quarantine.recentCount(NOW - 60_000)).toBe(1);
    expect(await quarantine.recentCount(NOW + 1)).toBe(2);
  });
});
