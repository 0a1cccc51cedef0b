import type { BlobStore } from "./blob-store.ts";
import { DAY_MS, type Clock } from "../clock.ts";

const PREFIX = "ids/";

/**
 * The event ids clients gave (their `event_id`, or one made from an `Idempotency-Key`) that the
 * flusher stored today and yesterday, one blob per UTC day: an event sent again within that window
 * (at least 24 hours) is found here and not stored twice, even when its copy went into an earlier
 * part or day file than the one a commit reads. Only the lease holder writes it. Ids the server made
 * are never kept: they cannot come again.
 */
export class SeenIds {
  private loaded: Set<string> | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  /** Which of `ids` were stored before. Reads the index once per instance run (two blobs). */
  async seen(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const known = await this.load();
    return new Set(ids.filter((id) => known.has(id)));
  }

  /** Adds ids just stored to today's blob. */
  async remember(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const known = await this.load();
    const key = keyOf(this.clock.now());
    const today = await this.read(key);
    const stored = new Set(today);
    const fresh = [...new Set(ids)].filter((id) => !stored.has(id));
    for (const id of ids) known.add(id);
    if (fresh.length > 0) await this.blobs.setJSON(key, { ids: [...today, ...fresh] });
  }

  /** Deletes the blobs of days before yesterday. */
  async prune(): Promise<void> {
    const keep = new Set([keyOf(this.clock.now()), keyOf(this.clock.now() - DAY_MS)]);
    const { blobs } = await this.blobs.list({ prefix: PREFIX });
    for (const { key } of blobs) if (!keep.has(key)) await this.blobs.delete(key);
  }

  private async load(): Promise<Set<string>> {
    if (!this.loaded) {
      const days = await Promise.all([this.read(keyOf(this.clock.now())), this.read(keyOf(this.clock.now() - DAY_MS))]);
      this.loaded = new Set(days.flat());
    }
    return this.loaded;
  }

  private async read(key: string): Promise<string[]> {
    const value = (await this.blobs.get(key, { type: "json" })) as { ids?: unknown } | null;
    return Array.isArray(value?.ids) ? value.ids.filter((id): id is string => typeof id === "string") : [];
  }
}

function keyOf(at: number): string {
  return `${PREFIX}${new Date(at).toISOString().slice(0, 10)}`;
}
