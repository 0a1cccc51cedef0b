import { createHmac, randomUUID } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { BlobStore } from "../spool/blob-store.ts";

const PENDING_PREFIX = "erasure/pending/";
const DONE_PREFIX = "erasure/done/";
/** What the erasure log keeps of an id: enough to tell requests for one install apart, not to find the install. */
const LOG_HASH_HEX_CHARS = 16;

/** A request waiting for the erasure job: the id (as stored: hashed already in hash mode) is kept only until it is done. */
const pendingErasureSchema = z.object({
  id: z.uuid(),
  hwid: z.string().min(1),
  requested_at: z.iso.datetime({ precision: 3 }),
});
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

export interface ErasureOutcome {
  linesRemoved: number;
  spoolEventsDropped: number;
  commit: string | undefined;
}

/**
 * Erasure requests, kept durably in Netlify Blobs (beside the spool) until the erasure job has
 * done them: `erasure/pending/<id>` while waiting, then `erasure/done/<id>`, the erasure log,
 * which keeps what was done and a keyed hash of the install, never its id.
 */
export class ErasureRequests {
  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    /** The key of the log's hashes: the flush key (a secret of the deploy). */
    private readonly logKey: string,
  ) {}

  async submit(hwid: string): Promise<ErasureStatus> {
    const request: PendingErasure = {
      id: randomUUID(),
      hwid,
      requested_at: new Date(this.clock.now()).toISOString(),
    };
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

  /** The requests waiting, oldest first. */
  async pending(): Promise<PendingErasure[]> {
    const { blobs } = await this.blobs.list({ prefix: PENDING_PREFIX });
    const requests = await Promise.all(
      blobs.map(async ({ key }) => pendingErasureSchema.safeParse(await this.blobs.get(key, { type: "json" }))),
    );
    return requests
      .flatMap((parsed) => (parsed.success ? [parsed.data] : []))
      .sort((a, b) => (a.requested_at < b.requested_at ? -1 : 1));
  }

  /** Logs `request` as done, without its id, and forgets the id. */
  async complete(request: PendingErasure, outcome: ErasureOutcome): Promise<void> {
    await this.blobs.setJSON(`${DONE_PREFIX}${request.id}`, {
      id: request.id,
      hwid_hash: createHmac("sha256", this.logKey).update(request.hwid).digest("hex").slice(0, LOG_HASH_HEX_CHARS),
      requested_at: request.requested_at,
      done_at: new Date(this.clock.now()).toISOString(),
      lines_removed: outcome.linesRemoved,
      spool_events_dropped: outcome.spoolEventsDropped,
      commit: outcome.commit ?? null,
    } satisfies z.input<typeof doneErasureSchema>);
    await this.blobs.delete(`${PENDING_PREFIX}${request.id}`);
  }
}
