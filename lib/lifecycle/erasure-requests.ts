import { createHmac } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { BlobStore } from "../spool/blob-store.ts";
import { mapLimit } from "../spool/map-limit.ts";

const PENDING_PREFIX = "erasure/pending/";
const DONE_PREFIX = "erasure/done/";
/** One entry an install while its request waits: a second request for it is the same request. */
const INSTALL_PREFIX = "erasure/install/";
/** What the erasure log keeps of an id: enough to tell requests for one install apart, not to find the install. */
const LOG_HASH_HEX_CHARS = 16;
const INSTALL_HEX_CHARS = 32;
/** Requests that may wait at once: past it, a new one is refused (429) until the queue drains. */
const MAX_PENDING_ERASURES = 10_000;
/** What a client refused for a full queue is told to wait: about one run. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 600;
const BLOB_CONCURRENCY = 8;

/** How far the erasure of a request has gone, across runs. */
const progressSchema = z.object({
  /** The first day not yet searched (a run ran out of time there); absent once every day was. */
  from: z.string().optional(),
  lines_removed: z.number().int().nonnegative(),
  spool_events_dropped: z.number().int().nonnegative(),
  /** The last commit that removed lines of the install: with TELEMETRY_HISTORY=squash, a squash after it is owed. */
  commit: z.string().nullable(),
});
export type ErasureProgress = z.output<typeof progressSchema>;

/** A request waiting for the erasure job: the id's forms (see hwidForms) are kept only until it is done. */
const pendingErasureSchema = z
  .object({
    id: z.uuid(),
    /** The id as the configuration stores it (hashed already in hash mode). */
    hwid: z.string().min(1),
    /** Every form its lines may be stored under, `hwid` first. */
    forms: z.array(z.string().min(1)).optional(),
    requested_at: z.iso.datetime({ precision: 3 }),
    progress: progressSchema.optional(),
  })
  .transform((request) => ({ ...request, forms: request.forms ?? [request.hwid] }));
export type PendingErasure = z.output<typeof pendingErasureSchema>;

/** The erasure log: what was done for a request, without the id (a keyed hash of it instead). */
const doneErasureSchema = z.object({
  id: z.uuid(),
  hwid_hash: z.string().describe("HMAC-SHA256 of the id, keyed with the service's flush key, cut short"),
  requested_at: z.iso.datetime({ precision: 3 }),
  done_at: z.iso.datetime({ precision: 3 }),
  lines_removed: z.number().int().nonnegative(),
  spool_events_dropped: z.number().int().nonnegative(),
  commit: z.string().nullable(),
});

/** What `GET /api/v1/erasure/{id}` answers. */
export const erasureStatusSchema = z.object({
  request_id: z.uuid(),
  status: z.enum(["pending", "done"]),
  requested_at: z.iso.datetime({ precision: 3 }),
  done_at: z.iso.datetime({ precision: 3 }).optional(),
  lines_removed: z.number().int().nonnegative().optional().describe("Stored lines of the install removed"),
});
export type ErasureStatus = z.output<typeof erasureStatusSchema>;

/** The queue holds MAX_PENDING_ERASURES requests already. */
export class ErasureQueueFullError extends Error {
  override name = "ErasureQueueFullError";
}

/**
 * Erasure requests, kept durably in Netlify Blobs (beside the spool) until the erasure job has
 * done them: `erasure/pending/<id>` while waiting (ids are UUIDv7, so a listing is oldest first),
 * then `erasure/done/<id>`, the erasure log, which keeps what was done and a keyed hash of the
 * install, never its id. A request for an install that already waits is that request: it is
 * answered with the waiting request's id.
 */
export class ErasureRequests {
  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    /** The key of the log's hashes: the flush key (a secret of the deploy). */
    private readonly logKey: string,
    private readonly maxPending = MAX_PENDING_ERASURES,
  ) {}

  /** Queues the erasure of the install stored under `forms` (see hwidForms), or gives the request that waits for it. */
  async submit(forms: readonly string[]): Promise<ErasureStatus> {
    const installKey = `${INSTALL_PREFIX}${this.hash(forms[0]!, INSTALL_HEX_CHARS)}`;
    const waiting = await this.waitingFor(installKey);
    if (waiting) return waiting;
    if ((await this.waiting()) >= this.maxPending) throw new ErasureQueueFullError("Too many erasure requests wait");
    const request = {
      id: uuidv7({ msecs: this.clock.now() }),
      hwid: forms[0]!,
      forms: [...forms],
      requested_at: new Date(this.clock.now()).toISOString(),
    } satisfies z.input<typeof pendingErasureSchema>;
    // The install's entry first, only if none is there: of two requests at once, one is kept.
    const claimed = await this.blobs.setJSON(installKey, { id: request.id }, { onlyIfNew: true });
    if (!claimed.modified) {
      const other = await this.waitingFor(installKey);
      if (other) return other;
      // An entry whose request is gone (done, or never written): this request takes it over.
      await this.blobs.setJSON(installKey, { id: request.id });
    }
    await this.blobs.setJSON(`${PENDING_PREFIX}${request.id}`, request);
    return { request_id: request.id, status: "pending", requested_at: request.requested_at };
  }

  async status(id: string): Promise<ErasureStatus | undefined> {
    if (!z.uuid().safeParse(id).success) return undefined;
    const done = doneErasureSchema.safeParse(await this.blobs.get(`${DONE_PREFIX}${id}`, { type: "json" }));
    if (done.success) {
      const { requested_at, done_at, lines_removed } = done.data;
      return { request_id: id, status: "done", requested_at, done_at, lines_removed };
    }
    const pending = pendingErasureSchema.safeParse(await this.blobs.get(`${PENDING_PREFIX}${id}`, { type: "json" }));
    return pending.success ? { request_id: id, status: "pending", requested_at: pending.data.requested_at } : undefined;
  }

  /** How many requests wait: a listing, no request read (the schedule's check every 10 minutes). */
  async waiting(): Promise<number> {
    const { blobs } = await this.blobs.list({ prefix: PENDING_PREFIX });
    return blobs.length;
  }

  /** The oldest `limit` requests waiting, oldest first: a run reads one page, never the whole queue. */
  async pending(limit = this.maxPending): Promise<PendingErasure[]> {
    const { blobs } = await this.blobs.list({ prefix: PENDING_PREFIX });
    const page = blobs
      .map(({ key }) => key)
      .sort()
      .slice(0, limit);
    const requests = await mapLimit(page, BLOB_CONCURRENCY, async (key) =>
      pendingErasureSchema.safeParse(await this.blobs.get(key, { type: "json" })),
    );
    return requests
      .flatMap((parsed) => (parsed.success ? [parsed.data] : []))
      .sort((a, b) => (a.requested_at < b.requested_at ? -1 : a.requested_at > b.requested_at ? 1 : 0));
  }

  /** Keeps how far a request has gone, for the next run to go on from. */
  async record(request: PendingErasure, progress: ErasureProgress): Promise<void> {
    const { id, hwid, forms, requested_at } = request;
    await this.blobs.setJSON(`${PENDING_PREFIX}${id}`, { id, hwid, forms, requested_at, progress });
  }

  /**
   * Logs `request` as done, without its id, and forgets the id. The log is written only if it is
   * not there yet: a run never overwrites what another did.
   */
  async complete(request: PendingErasure, { lines_removed, spool_events_dropped, commit }: ErasureProgress) {
    await this.blobs.setJSON(
      `${DONE_PREFIX}${request.id}`,
      {
        id: request.id,
        hwid_hash: this.hash(request.hwid, LOG_HASH_HEX_CHARS),
        requested_at: request.requested_at,
        done_at: new Date(this.clock.now()).toISOString(),
        lines_removed,
        spool_events_dropped,
        commit,
      } satisfies z.input<typeof doneErasureSchema>,
      { onlyIfNew: true },
    );
    await this.blobs.delete(`${PENDING_PREFIX}${request.id}`);
    const installKey = `${INSTALL_PREFIX}${this.hash(request.hwid, INSTALL_HEX_CHARS)}`;
    const entry = (await this.blobs.get(installKey, { type: "json" })) as { id?: unknown } | null;
    if (entry?.id === request.id) await this.blobs.delete(installKey);
  }

  private async waitingFor(installKey: string): Promise<ErasureStatus | undefined> {
    const entry = (await this.blobs.get(installKey, { type: "json" })) as { id?: unknown } | null;
    if (typeof entry?.id !== "string") return undefined;
    const status = await this.status(entry.id);
    return status?.status === "pending" ? status : undefined;
  }

  private hash(hwid: string, chars: number): string {
    return createHmac("sha256", this.logKey).update(hwid).digest("hex").slice(0, chars);
  }
}
