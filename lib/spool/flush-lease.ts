import { randomUUID } from "node:crypto";
import type { BlobStore } from "./blob-store.ts";
import type { Clock } from "../clock.ts";

const LEASE_KEY = "flusher/lease";
/** How long a dead flusher keeps others out: longer than any run's budget, renewed every round. */
export const LEASE_TTL_MS = 30_000;

export interface LastFlush {
  at: string;
  events: number;
  commits: number;
  files: number;
  bytes: number;
  duration_ms: number;
  error: string | null;
}

/** What flushers share: who holds the lease until when, the recent writes, a rate-limit stop, the last flush. */
export interface FlushState {
  holder: string | null;
  expires_at: number;
  /** Epoch ms of the content writes of the last hour, for pacing across instances. */
  writes: number[];
  /** GitHub's `retry-after` from a secondary limit: no write before this (epoch ms). */
  blocked_until: number;
  /** When the next write may start, by the pace or a rate limit: waking a flusher long before is useless (epoch ms). */
  resume_at: number;
  last_flush: LastFlush | null;
  /** Events answered and not stored (TELEMETRY_DROP_CLIENT_TYPES), by client type, since the state began. */
  dropped: Record<string, number>;
  /** Events set aside in the spool's quarantine/ because they could not be stored, since the state began. */
  quarantined: number;
}

const EMPTY_STATE: FlushState = {
  holder: null,
  expires_at: 0,
  writes: [],
  blocked_until: 0,
  resume_at: 0,
  last_flush: null,
  dropped: {},
  quarantined: 0,
};

/** The lease was taken over (it expired while its holder was still working): stop at once. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}

/**
 * One blob holds the lease and the state it guards. It is only written with a condition: taken with
 * `onlyIfNew` or `onlyIfMatch` on the etag of an expired lease, then renewed and released with
 * `onlyIfMatch` on the etag of the holder's own last write. So at most one flusher holds it, and a
 * holder that dies stops holding it when `expires_at` passes.
 */
export class FlushLease {
  readonly holder = randomUUID();
  private etag: string | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /** The state as any reader sees it now. */
  async read(): Promise<FlushState> {
    return parseState(await this.blobs.get(LEASE_KEY, { type: "json" }));
  }

  /** Takes the lease if nobody holds it; the state it guards, or undefined when it is held. */
  async acquire(): Promise<FlushState | undefined> {
    // The etag first, then the value: if the value changed in between, the write below names a
    // stale etag and fails, so a decision is never taken on a value newer than the etag it writes over.
    const { blobs } = await this.blobs.list({ prefix: LEASE_KEY });
    const etag = blobs.find((blob) => blob.key === LEASE_KEY)?.etag;
    const state = etag ? await this.read() : { ...EMPTY_STATE };
    if (state.holder !== null && state.expires_at > this.clock.now()) return undefined;
    const next = { ...state, holder: this.holder, expires_at: this.clock.now() + this.ttlMs };
    const written = etag
      ? await this.blobs.setJSON(LEASE_KEY, next, { onlyIfMatch: etag })
      : await this.blobs.setJSON(LEASE_KEY, next, { onlyIfNew: true });
    if (!written.modified) return undefined;
    // Netlify Blobs makes the conditional write atomic; `netlify dev`'s local sandbox checks and
    // writes in two steps, so two takers can both succeed there. Reading back narrows that to the
    // few milliseconds of a write; exactly once never rests on the lease alone (see flush-spool.ts).
    if ((await this.read()).holder !== this.holder) return undefined;
    this.etag = written.etag;
    return next;
  }

  /** Saves `state` and extends the lease; throws LeaseLostError when another flusher has taken it. */
  async renew(state: FlushState): Promise<void> {
    await this.write({ ...state, holder: this.holder, expires_at: this.clock.now() + this.ttlMs });
  }

  /** Saves `state` and lets the next flusher in at once. */
  async release(state: FlushState): Promise<void> {
    await this.write({ ...state, holder: null, expires_at: 0 });
  }

  private async write(state: FlushState): Promise<void> {
    if (!this.etag) throw new LeaseLostError("The lease is not held");
    const written = await this.blobs.setJSON(LEASE_KEY, state, { onlyIfMatch: this.etag });
    if (!written.modified) {
      this.etag = undefined;
      throw new LeaseLostError("Another flusher took the lease");
    }
    this.etag = written.etag;
  }
}

function parseState(data: unknown): FlushState {
  const value = (data ?? {}) as Partial<FlushState>;
  return {
    holder: typeof value.holder === "string" ? value.holder : null,
    expires_at: Number(value.expires_at) || 0,
    writes: Array.isArray(value.writes) ? value.writes.filter((at): at is number => typeof at === "number") : [],
    blocked_until: Number(value.blocked_until) || 0,
    resume_at: Number(value.resume_at) || 0,
    last_flush: value.last_flush ?? null,
    quarantined: Number.isSafeInteger(value.quarantined) && value.quarantined! >= 0 ? value.quarantined! : 0,
    dropped: Object.fromEntries(
      Object.entries(value.dropped ?? {}).filter(
        (entry): entry is [string, number] => Number.isSafeInteger(entry[1]) && entry[1] >= 0,
      ),
    ),
  };
}
