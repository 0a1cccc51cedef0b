import { createHmac, randomUUID } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { BlobStore } from "../spool/blob-store.ts";
import { mapLimit } from "../spool/map-limit.ts";
import type { EventStore } from "../storage/event-store.ts";

/** What the flusher leaves, one blob a commit: the keyed hashes of the installs it is about to store. */
const LOG_PREFIX = "erasure/seen-log/";
/** The index proper, in shards by the hash's first character, written only by erasure runs (one at a time). */
const SHARD_PREFIX = "erasure/seen/";
const COMPLETE_KEY = "erasure/seen-complete";
const KEY_HEX_CHARS = 16;
const BLOB_CONCURRENCY = 8;
/** Flushers' logs an erasure run folds in at most: past it, the index counts as incomplete for the run. */
const LOGS_A_RUN = 2000;
/** Installs an instance remembers having logged, so that a busy flusher logs each install once. */
const REMEMBERED = 100_000;

/**
 * Which installs may have a stored line, as keyed hashes in Netlify Blobs, so that a request for an
 * id never stored costs no archive download. Kept as a superset: the flusher logs the installs of
 * every commit before making it (one small blob a commit; a commit that then fails leaves a hash
 * too many, never one too few), an erasure run folds the logs into the index, and the first run
 * that reads the whole branch adds every id it holds (what was stored before the index) and
 * declares the index complete, for its key. Until then, under another key, or with more logs than
 * a run folds in, every request is looked for in the files.
 */
export class InstallIndex {
  private readonly logged = new Set<string>();
  private readonly shards = new Map<string, Set<string>>();
  private folded = false;

  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly key: string,
  ) {}

  /** `store`, logging the installs of every commit before it is made: the flusher's store. */
  watch(store: EventStore): EventStore {
    return {
      describe: () => store.describe(),
      credentialsId: () => store.credentialsId(),
      credentialsExpireAt: () => store.credentialsExpireAt(),
      commit: async (batches, options) => {
        const hashes = new Set(batches.flatMap((batch) => batch.map((event) => this.keyOf(event.hwid))));
        const fresh = [...hashes].filter((hash) => !this.logged.has(hash));
        if (fresh.length > 0) {
          const at = String(this.clock.now()).padStart(15, "0");
          await this.blobs.setJSON(`${LOG_PREFIX}${at}-${randomUUID()}`, { h: fresh });
          if (this.logged.size + fresh.length > REMEMBERED) this.logged.clear();
          for (const hash of fresh) this.logged.add(hash);
        }
        return store.commit(batches, options);
      },
    };
  }

  /** Folds the flushers' logs into the index (an erasure run, holding the run's marker); whether none is left. */
  async fold(): Promise<boolean> {
    // Another instance's run may have grown the shards since this one last read them.
    this.shards.clear();
    const { blobs } = await this.blobs.list({ prefix: LOG_PREFIX });
    const keys = blobs.map((blob) => blob.key).sort();
    const taken = keys.slice(0, LOGS_A_RUN);
    const logs = await mapLimit(taken, BLOB_CONCURRENCY, async (key) => {
      const value = (await this.blobs.get(key, { type: "json" })) as { h?: unknown } | null;
      return Array.isArray(value?.h) ? value.h.filter((hash): hash is string => typeof hash === "string") : [];
    });
    await this.add(logs.flat());
    await mapLimit(taken, BLOB_CONCURRENCY, (key) => this.blobs.delete(key));
    this.folded = keys.length <= LOGS_A_RUN;
    return this.folded;
  }

  /** Adds the ids a whole read of the branch found (as stored). */
  async mark(hwids: Iterable<string>): Promise<void> {
    await this.add([...hwids].map((hwid) => this.keyOf(hwid)));
  }

  /** Whether the index covers every stored line: a whole read declared it, under this key, and every log is folded in. */
  async complete(): Promise<boolean> {
    const kept = (await this.blobs.get(COMPLETE_KEY, { type: "json" })) as { key?: unknown } | null;
    return this.folded && kept?.key === this.keyOf(COMPLETE_KEY);
  }

  async markComplete(): Promise<void> {
    await this.blobs.setJSON(COMPLETE_KEY, { key: this.keyOf(COMPLETE_KEY) });
  }

  /** Whether any of `forms` may have a stored line. */
  async holdsAny(forms: readonly string[]): Promise<boolean> {
    for (const hash of forms.map((form) => this.keyOf(form))) if ((await this.shard(hash)).has(hash)) return true;
    return false;
  }

  private async add(hashes: readonly string[]): Promise<void> {
    const byShard = new Map<string, string[]>();
    for (const hash of hashes) byShard.set(hash[0]!, [...(byShard.get(hash[0]!) ?? []), hash]);
    await mapLimit([...byShard], BLOB_CONCURRENCY, async ([name, added]) => {
      const shard = await this.shard(name);
      const size = shard.size;
      for (const hash of added) shard.add(hash);
      if (shard.size > size) await this.blobs.setJSON(`${SHARD_PREFIX}${name}`, { h: [...shard] });
    });
  }

  /** The shard a hash is in, read once a run (fold begins a run). */
  private async shard(hash: string): Promise<Set<string>> {
    const name = hash[0]!;
    let shard = this.shards.get(name);
    if (!shard) {
      const value = (await this.blobs.get(`${SHARD_PREFIX}${name}`, { type: "json" })) as { h?: unknown } | null;
      shard = new Set(Array.isArray(value?.h) ? value.h.filter((h): h is string => typeof h === "string") : []);
      this.shards.set(name, shard);
    }
    return shard;
  }

  private keyOf(hwid: string): string {
    return createHmac("sha256", this.key).update(hwid).digest("hex").slice(0, KEY_HEX_CHARS);
  }
}
