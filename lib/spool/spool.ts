import { randomUUID } from "node:crypto";
import type { BlobStore } from "./blob-store.ts";
import { MINUTE_MS, type Clock } from "../clock.ts";
import { z } from "zod";
import { storedEventSchema, type StoredEvent } from "../events/stored-event.ts";
import { issuesOf } from "../issue.ts";
import { mapLimit } from "./map-limit.ts";
import { Quarantine } from "./quarantine.ts";

const PENDING_PREFIX = "pending/";
/** The depth as last counted, shared by every instance (see recentDepth). */
const DEPTH_KEY = "summary/depth";
/** Issues kept of a value set aside: enough to see what is wrong. */
const MAX_KEPT_ISSUES = 5;
/** Entries are filed in folders of one minute, so that a flusher lists the oldest minutes, not the whole backlog. */
const BUCKET_MS = MINUTE_MS;
const BUCKET_DIGITS = 10;
/** Blob calls in flight at once when the flusher reads or clears many entries: enough to hide a remote store's latency, few enough to leave room for ingestion's writes. */
const BLOB_CONCURRENCY = 8;
const TIME_DIGITS = 15;

/**
 * What the flusher needs of a waiting event to store it: its id and its day. The rest is stored as
 * the ingesting deploy made it, so that entries left by an older or a newer deploy (another
 * schema, another field) are stored as they were accepted, not set aside or stripped.
 */
const waitingEventSchema = z.looseObject({
  event_id: storedEventSchema.shape.event_id,
  created_at: storedEventSchema.shape.created_at,
});

/** What one accepted request left for the flusher; fields a newer deploy adds are ignored. */
const spoolRecordSchema = z.object({
  events: z.array(z.unknown()).default([]),
  /** Ids of those events the client gave (event_id or Idempotency-Key): they may come again, and are remembered. */
  client_ids: z.array(z.string()).default([]),
  /** Events answered and not stored, by client type (TELEMETRY_DROP_CLIENT_TYPES): counted by the flusher. */
  dropped: z.record(z.string(), z.number().int().nonnegative()).default({}),
});

export interface SpoolRecord extends Omit<z.output<typeof spoolRecordSchema>, "events"> {
  events: StoredEvent[];
  /** Events of the entry set aside in quarantine/ as they were read. */
  quarantined: number;
}

const EMPTY_RECORD: SpoolRecord = { events: [], client_ids: [], dropped: {}, quarantined: 0 };

/** One accepted request's records, waiting in the spool. */
export interface SpoolEntry {
  key: string;
  /** When it was accepted (epoch ms). */
  at: number;
  count: number;
}

const spoolDepthSchema = z.object({
  entries: z.number().int().nonnegative(),
  events: z.number().int().nonnegative(),
  oldest_at: z.number().nullable(),
});

export type SpoolDepth = z.output<typeof spoolDepthSchema>;

const countedDepthSchema = spoolDepthSchema.extend({ counted_at: z.number() });

/**
 * Accepted events waiting for the flusher, one blob per accepted request. The key carries the
 * acceptance time and the event count (`pending/<minute>/<ms>-<count>-<uuid>`), so that a listing
 * alone gives the order, the depth and the oldest age; a listing costs in proportion to what it
 * covers, hence the minute folders.
 */
export class Spool {
  /** Where what the flusher cannot store is set aside, in the same store. */
  readonly quarantine: Quarantine;

  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {
    this.quarantine = new Quarantine(blobs, clock);
  }

  /** Resolves once the events are durably kept; the caller may then acknowledge them. */
  async add(
    events: readonly StoredEvent[],
    extra: Partial<Pick<SpoolRecord, "client_ids" | "dropped">> = {},
  ): Promise<void> {
    const now = this.clock.now();
    const bucket = String(Math.floor(now / BUCKET_MS)).padStart(BUCKET_DIGITS, "0");
    const at = String(now).padStart(TIME_DIGITS, "0");
    const { client_ids: clientIds = [], dropped = {} } = extra;
    await this.blobs.setJSON(`${PENDING_PREFIX}${bucket}/${at}-${events.length}-${randomUUID()}`, {
      events,
      // Most requests carry neither: their entries stay as small as the events.
      ...(clientIds.length > 0 ? { client_ids: clientIds } : {}),
      ...(Object.keys(dropped).length > 0 ? { dropped } : {}),
    });
  }

  /** Every waiting entry, oldest first. */
  async list(): Promise<SpoolEntry[]> {
    return entriesOf(await this.blobs.list({ prefix: PENDING_PREFIX }));
  }

  /** The oldest waiting entries, at least `count` of them when that many wait, listing no more minutes than that needs. */
  async oldest(count: number): Promise<SpoolEntry[]> {
    const { directories = [] } = await this.blobs.list({ prefix: PENDING_PREFIX, directories: true });
    const entries: SpoolEntry[] = [];
    for (const folder of directories.map((name) => name.replace(/\/?$/, "/")).sort()) {
      entries.push(...entriesOf(await this.blobs.list({ prefix: folder })));
      if (entries.length >= count) break;
    }
    return entries;
  }

  /**
   * The depth as counted at `notBefore` or later by any instance; counted anew (a listing of the
   * whole spool) only when no such count is kept. So health checks, however many, list a large
   * backlog once for each step of `notBefore`.
   */
  async recentDepth(notBefore: number): Promise<SpoolDepth> {
    const kept = countedDepthSchema.safeParse(await this.blobs.get(DEPTH_KEY, { type: "json" }));
    if (kept.success && kept.data.counted_at >= notBefore) {
      const { counted_at: _countedAt, ...depth } = kept.data;
      return depth;
    }
    const countedAt = this.clock.now();
    const depth = await this.depth();
    await this.blobs.setJSON(DEPTH_KEY, { ...depth, counted_at: countedAt });
    return depth;
  }

  async depth(): Promise<SpoolDepth> {
    const entries = await this.list();
    return {
      entries: entries.length,
      events: entries.reduce((total, entry) => total + entry.count, 0),
      oldest_at: entries[0]?.at ?? null,
    };
  }

  /**
   * What each entry holds; an entry already cleared by another flusher reads as empty. An event
   * that cannot be stored (no valid id or day: left by a bug) is set aside in
   * `quarantine/<key>/<index>` with the reason, and the entry's other events are stored; an entry
   * that does not read as a record at all is set aside whole (`quarantine/<key>`) and reads as
   * empty. One bad event must not stop every flush behind it, nor take its neighbours with it.
   */
  async read(entries: readonly SpoolEntry[]): Promise<SpoolRecord[]> {
    return mapLimit(entries, BLOB_CONCURRENCY, async ({ key }) => {
      const value = await this.blobs.get(key, { type: "json" });
      const record = spoolRecordSchema.safeParse(value ?? {});
      if (!record.success) {
        await this.quarantine.setAside(key, value, issuesOf(record.error.issues.slice(0, MAX_KEPT_ISSUES)));
        await this.blobs.delete(key);
        const { events } = (value ?? {}) as { events?: unknown };
        return { ...EMPTY_RECORD, quarantined: Array.isArray(events) ? events.length : 1 };
      }
      const events: StoredEvent[] = [];
      let quarantined = 0;
      for (const [index, event] of record.data.events.entries()) {
        const parsed = waitingEventSchema.safeParse(event);
        // The line as ingestion made it: checked then against the schema of its deploy.
        if (parsed.success) events.push(parsed.data as StoredEvent);
        else {
          quarantined += 1;
          await this.quarantine.setAside(
            `${key}/${index}`,
            event,
            issuesOf(parsed.error.issues.slice(0, MAX_KEPT_ISSUES)),
          );
        }
      }
      return { ...record.data, events, quarantined };
    });
  }

  /** Saves what is left of an entry whose other events are done (its key, and so its listed count, stays). */
  async rewrite(entry: SpoolEntry, record: SpoolRecord): Promise<void> {
    const { events, client_ids: clientIds, dropped } = record;
    await this.blobs.setJSON(entry.key, { events, client_ids: clientIds, dropped });
  }

  async remove(entries: readonly SpoolEntry[]): Promise<void> {
    await mapLimit(entries, BLOB_CONCURRENCY, ({ key }) => this.blobs.delete(key));
  }
}

function entriesOf({ blobs }: { blobs: { key: string }[] }): SpoolEntry[] {
  return blobs
    .map(({ key }) => parseKey(key))
    .filter((entry): entry is SpoolEntry => entry !== undefined)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function parseKey(key: string): SpoolEntry | undefined {
  const match = /^pending\/\d+\/(\d+)-(\d+)-[0-9a-f-]+$/.exec(key);
  if (!match) return undefined;
  return { key, at: Number(match[1]), count: Number(match[2]) };
}
