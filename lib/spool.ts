import { randomUUID } from "node:crypto";
import type { BlobStore } from "./blob-store.ts";
import type { Clock } from "./clock.ts";
import { storedEventSchema, type StoredEvent } from "./event.ts";

const PENDING_PREFIX = "pending/";
/** Blob calls in flight at once when reading or clearing many entries. */
const BLOB_CONCURRENCY = 16;
const TIME_DIGITS = 15;

/** One accepted request's records, waiting in the spool. */
export interface SpoolEntry {
  key: string;
  /** When it was accepted (epoch ms). */
  at: number;
  count: number;
}

export interface SpoolDepth {
  entries: number;
  events: number;
  oldest_at: number | null;
}

/**
 * Accepted events waiting for the flusher, one blob per accepted request. The key carries the
 * acceptance time and the event count (`pending/<ms>-<count>-<uuid>`), so that a listing alone
 * gives the order, the depth and the oldest age.
 */
export class Spool {
  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  /** Resolves once the events are durably kept; the caller may then acknowledge them. */
  async add(events: readonly StoredEvent[]): Promise<void> {
    const at = String(this.clock.now()).padStart(TIME_DIGITS, "0");
    await this.blobs.setJSON(`${PENDING_PREFIX}${at}-${events.length}-${randomUUID()}`, { events });
  }

  /** Waiting entries, oldest first. */
  async list(): Promise<SpoolEntry[]> {
    const { blobs } = await this.blobs.list({ prefix: PENDING_PREFIX });
    return blobs
      .map(({ key }) => parseKey(key))
      .filter((entry): entry is SpoolEntry => entry !== undefined)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async depth(): Promise<SpoolDepth> {
    const entries = await this.list();
    return {
      entries: entries.length,
      events: entries.reduce((total, entry) => total + entry.count, 0),
      oldest_at: entries[0]?.at ?? null,
    };
  }

  /** The events of each entry; an entry already cleared by another flusher reads as empty. */
  async read(entries: readonly SpoolEntry[]): Promise<StoredEvent[][]> {
    return mapLimit(entries, BLOB_CONCURRENCY, async ({ key }) => {
      const value = (await this.blobs.get(key, { type: "json" })) as { events?: unknown[] } | null;
      return (value?.events ?? []).map((event) => storedEventSchema.parse(event));
    });
  }

  async remove(entries: readonly SpoolEntry[]): Promise<void> {
    await mapLimit(entries, BLOB_CONCURRENCY, ({ key }) => this.blobs.delete(key));
  }
}

function parseKey(key: string): SpoolEntry | undefined {
  const match = /^pending\/(\d+)-(\d+)-[0-9a-f-]+$/.exec(key);
  if (!match) return undefined;
  return { key, at: Number(match[1]), count: Number(match[2]) };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
