import { createHmac } from "node:crypto";
import type { BlobStore } from "../spool/blob-store.ts";
import { mapLimit } from "../spool/map-limit.ts";
import type { EventStore } from "../storage/event-store.ts";

const SEEN_PREFIX = "erasure/seen/";
const COMPLETE_KEY = "erasure/seen-complete";
const KEY_HEX_CHARS = 32;
const BLOB_CONCURRENCY = 8;
/** Markers an instance remembers having written, so that a busy flusher writes each install's once. */
const REMEMBERED = 100_000;

/**
 * Which installs may have a stored line, as keyed hashes in Netlify Blobs (`erasure/seen/<hash>`),
 * so that a request for an id never stored costs no archive download. Kept as a superset: the
 * flusher marks every install of a commit before making it (a commit that then fails leaves a
 * marker too many, never one too few), and the first erasure run that reads the whole branch marks
 * every id it holds (what was stored before the index) and then declares the index complete, for
 * its key. Until then, and under another key, every request is looked for in the files.
 */
export class InstallIndex {
  private readonly marked = new Set<string>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly key: string,
  ) {}

  /** `store`, marking the installs of every commit before it is made: the flusher's store. */
  watch(store: EventStore): EventStore {
    return {
      describe: () => store.describe(),
      credentialsId: () => store.credentialsId(),
      credentialsExpireAt: () => store.credentialsExpireAt(),
      commit: async (batches, options) => {
        await this.mark(batches.flatMap((batch) => batch.map((event) => event.hwid)));
        return store.commit(batches, options);
      },
    };
  }

  async mark(hwids: Iterable<string>): Promise<void> {
    const keys = [...new Set([...hwids].map((hwid) => this.keyOf(hwid)))].filter((key) => !this.marked.has(key));
    await mapLimit(keys, BLOB_CONCURRENCY, (key) => this.blobs.setJSON(`${SEEN_PREFIX}${key}`, {}));
    if (this.marked.size + keys.length > REMEMBERED) this.marked.clear();
    for (const key of keys) this.marked.add(key);
  }

  /** Whether the index covers every stored line (a whole-branch read marked them, under this key). */
  async complete(): Promise<boolean> {
    const kept = (await this.blobs.get(COMPLETE_KEY, { type: "json" })) as { key?: unknown } | null;
    return kept?.key === this.keyOf(COMPLETE_KEY);
  }

  async markComplete(): Promise<void> {
    await this.blobs.setJSON(COMPLETE_KEY, { key: this.keyOf(COMPLETE_KEY) });
  }

  /** Whether any of `forms` may have a stored line. */
  async holdsAny(forms: readonly string[]): Promise<boolean> {
    for (const form of forms) {
      if (this.marked.has(this.keyOf(form))) return true;
      if ((await this.blobs.get(`${SEEN_PREFIX}${this.keyOf(form)}`, { type: "json" })) != null) return true;
    }
    return false;
  }

  private keyOf(hwid: string): string {
    return createHmac("sha256", this.key).update(hwid).digest("hex").slice(0, KEY_HEX_CHARS);
  }
}
