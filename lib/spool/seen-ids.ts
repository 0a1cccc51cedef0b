import type { Clock } from "../clock.ts";
import { DAY_MS, dayOf } from "../day.ts";
import type { BlobStore } from "./blob-store.ts";
import { mapLimit } from "./map-limit.ts";

/** One marker blob per id stored, under its UTC day: `seen/<day>/<event_id>`. */
const PREFIX = "seen/";
/** Where the ids lived before, one blob a day rewritten whole: pruned like any past day. */
const FORMER_PREFIX = "ids/";
/** Blob calls in flight at once: markers are tiny, latency is what costs. */
const CONCURRENCY = 16;
/** Markers a prune deletes at most: the rest go on the next scheduled run. */
const MAX_PRUNED = 5000;

/**
 * The event ids clients gave (their `event_id`, or one made from an `Idempotency-Key`) that the
 * flusher stored today and yesterday: an event sent again within that window (at least 24 hours)
 * is found here and not stored twice, even when its copy went into an earlier part or day than the
 * one a commit reads. Ids the server made are never kept: they cannot come again.
 *
 * Each id is a marker blob of its own, written with `onlyIfNew`: a commit costs one small write
 * per client id it stored and one or two small reads per id it checks, whatever the day already
 * holds, and two flushers at once (an expired lease) cannot lose each other's ids.
 */
export class SeenIds {
  /** Ids known to be stored: found, or remembered by this instance. */
  private readonly known = new Set<string>();
  /** Ids already looked up: a run asks again for none (only the lease holder remembers ids). */
  private readonly checked = new Set<string>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  /** Which of `ids` were stored before. */
  async seen(ids: readonly string[]): Promise<Set<string>> {
    const days = [dayOf(this.clock.now()), dayOf(this.clock.now() - DAY_MS)];
    const unknown = [...new Set(ids)].filter((id) => !this.known.has(id) && !this.checked.has(id));
    await mapLimit(unknown, CONCURRENCY, async (id) => {
      this.checked.add(id);
      for (const day of days) {
        if ((await this.blobs.get(`${PREFIX}${day}/${id}`, { type: "json" })) !== null) {
          this.known.add(id);
          return;
        }
      }
    });
    return new Set(ids.filter((id) => this.known.has(id)));
  }

  /** Marks ids just stored, under today. */
  async remember(ids: readonly string[]): Promise<void> {
    const day = dayOf(this.clock.now());
    const fresh = [...new Set(ids)].filter((id) => !this.known.has(id));
    await mapLimit(fresh, CONCURRENCY, async (id) => {
      await this.blobs.setJSON(`${PREFIX}${day}/${id}`, 1, { onlyIfNew: true });
      this.known.add(id);
    });
  }

  /** Deletes the markers of days before yesterday (at most MAX_PRUNED a call), and the former day blobs. */
  async prune(): Promise<void> {
    const keep = new Set([dayOf(this.clock.now()), dayOf(this.clock.now() - DAY_MS)]);
    const { directories = [] } = await this.blobs.list({ prefix: PREFIX, directories: true });
    const past = directories
      .map((name) => name.replace(/\/?$/, "/"))
      .filter((folder) => !keep.has(folder.slice(PREFIX.length, -1)));
    const keys: string[] = [];
    for (const folder of past) {
      if (keys.length >= MAX_PRUNED) break;
      keys.push(...(await this.blobs.list({ prefix: folder })).blobs.map(({ key }) => key));
    }
    keys.push(...(await this.blobs.list({ prefix: FORMER_PREFIX })).blobs.map(({ key }) => key));
    await mapLimit(keys.slice(0, MAX_PRUNED), CONCURRENCY, (key) => this.blobs.delete(key));
  }
}
