import { systemClock, type Clock } from "../lib/clock.ts";
import { DAY_MS } from "../lib/day.ts";
import type { BlobStore } from "../lib/spool/blob-store.ts";
import { SeenIds } from "../lib/spool/seen-ids.ts";
import { describe, expect, it, test } from "./support/fixtures.ts";

/** This test's store on the file's Blobs server. */
let spoolStore: BlobStore;
/** Bytes the ids' store was sent, and its calls. */
let sent: number;
let calls: number;

test.beforeEach(({ spoolStore: store }) => {
  spoolStore = store;
  sent = 0;
  calls = 0;
});

function counted(): BlobStore {
  const store: BlobStore = spoolStore;
  return {
    get: (key, options) => {
      calls += 1;
      return store.get(key, options);
    },
    setJSON: (key, value, options) => {
      calls += 1;
      sent += JSON.stringify(value).length;
      return store.setJSON(key, value, options);
    },
    delete: (key) => store.delete(key),
    list: (options) => store.list(options),
  };
}

const ids = (count: number) => Array.from({ length: count }, () => crypto.randomUUID());
const at = (ms: number): Clock => ({ ...systemClock, now: () => ms });

describe("the client ids the flusher stored", () => {
  it("are found by another flusher, today and tomorrow, and forgotten the day after", async () => {
    const today = Date.parse("2026-11-22T12:00:00Z");
    const stored = ids(3);
    await new SeenIds(spoolStore, at(today)).remember(stored);

    const other = [crypto.randomUUID()];
    expect(await new SeenIds(spoolStore, at(today)).seen([...stored, ...other])).toEqual(new Set(stored));
    expect(await new SeenIds(spoolStore, at(today + DAY_MS)).seen(stored)).toEqual(new Set(stored));
    await new SeenIds(spoolStore, at(today + 2 * DAY_MS)).prune();
    expect(await new SeenIds(spoolStore, at(today + DAY_MS)).seen(stored)).toEqual(new Set());
  });

  it("cost a commit the same whatever the day already holds: a small write per id, nothing rewritten", async () => {
    const seen = new SeenIds(counted(), systemClock);
    await seen.remember(ids(2000));
    sent = 0;
    calls = 0;
    await new SeenIds(counted(), systemClock).remember(ids(100));
    expect(calls).toBe(100);
    expect(sent).toBeLessThan(1000);
  });

  it("are not lost when two flushers remember at once (an expired lease)", async () => {
    const [first, second] = [ids(50), ids(50)];
    await Promise.all([
      new SeenIds(spoolStore, systemClock).remember(first),
      new SeenIds(spoolStore, systemClock).remember(second),
    ]);
    expect((await new SeenIds(spoolStore, systemClock).seen([...first, ...second])).size).toBe(100);
  });
});
