import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { BlobStore } from "./blob-store.ts";
import { MINUTE_MS, type Clock } from "../clock.ts";
import type { SpoolRecord } from "./spool.ts";

const LEASE_KEY = "flusher/lease";
/** Past the moment the pace allowed its write, an event may wait this long (twice the scheduled flush's minute) before the flusher counts as behind. */
const BEHIND_AFTER_MS = 2 * MINUTE_MS;
/** How long a dead flusher keeps others out: longer than any run's budget, renewed every round. */
export const LEASE_TTL_MS = 30_000;

const count = z.number().int().nonnegative();
/** A point in time (epoch ms); 0 for none. */
const epochMs = z.number().nonnegative().catch(0);

/** The last flush, as the flushers' state keeps it and health reports it. */
export const lastFlushSchema = z.object({
  at: z.string(),
  events: count,
  commits: count,
  files: count,
  bytes: count,
  duration_ms: z.number(),
  error: z.string().nullable(),
});

export type LastFlush = z.output<typeof lastFlushSchema>;

/**
 * What flushers share: who holds the lease until when, the recent writes, a stop (rate limit or
 * refusal), the last flush, and what health reports. Read leniently: a field an older deploy did
 * not write, or wrote otherwise, takes its empty value.
 */
const flushStateSchema = z.object({
  holder: z.string().nullable().catch(null),
  expires_at: epochMs,
  /** Epoch ms of the content writes of the last hour, for pacing across instances. */
  writes: z
    .array(z.unknown())
    .catch([])
    .transform((writes) => writes.filter((at): at is number => typeof at === "number")),
  /** No write before this (epoch ms): GitHub's `retry-after`, or the back-off after a refusal. */
  blocked_until: epochMs,
  /** When the next write may start, by the pace or a stop: waking a flusher long before is useless (epoch ms). */
  resume_at: epochMs,
  last_flush: lastFlushSchema.nullable().catch(null),
  /** Events answered and not stored (TELEMETRY_DROP_CLIENT_TYPES), by client type, since the state began. */
  dropped: z
    .record(z.string(), z.unknown())
    .catch({})
    .transform((counts) =>
      Object.fromEntries(
        Object.entries(counts).filter((entry): entry is [string, number] => count.safeParse(entry[1]).success),
      ),
    ),
  /** Events set aside in the spool's quarantine/ because they could not be stored, since the state began. */
  quarantined: count.catch(0),
  /** When events were last set aside (epoch ms). */
  quarantined_at: epochMs,
  /** Runs in a row whose writes GitHub refused (a revoked or expired token, lost access): the back-off grows with them. */
  refusals: count.catch(0),
  /** The credentials GitHub refused (EventStore.credentialsId): new ones end the back-off at once. */
  refused_credentials: z.string().nullable().catch(null),
  /** When GitHub began refusing writes (epoch ms); 0 while it takes them. */
  refused_since: epochMs,
  /**
   * The spool entries (a range of keys, oldest to newest) known to hold a secret GitHub's push
   * protection refuses: the search for it goes on from here in the next run, one write a step.
   */
  suspect: z.object({ first: z.string(), last: z.string() }).nullable().catch(null),
  /** The entry at the head of the queue when a run last ran out of time in the middle of its commit. */
  timed_out_entry: z.string().nullable().catch(null),
  /** When the token expires, as GitHub last said (epoch ms); null when it does not, or has not said. */
  token_expires_at: z.number().nullable().catch(null),
  /** When a flush last stored events (epoch ms); 0 when none has since the state began: the hourly job's silence alert reads it. */
  stored_at: epochMs,
});

export type FlushState = z.output<typeof flushStateSchema>;

/** The state before any flusher wrote one. */
export const EMPTY_FLUSH_STATE: FlushState = flushStateSchema.parse({});

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
    const state = etag ? await this.read() : { ...EMPTY_FLUSH_STATE };
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
  return flushStateSchema.parse(data ?? {});
}

/**
 * Whether the oldest waiting event, accepted at `oldestAt`, has waited longer than the flusher's
 * pace explains: more than two minutes past the moment the pace or a stop (`resume_at`,
 * `blocked_until`) let it be written. Events held back by them are the flusher's pace, not a delay;
 * past it, no flush is taking them (a wake-up lost, no schedule to catch it) or they are more than it keeps up with.
 */
export function flusherBehind(
  state: Pick<FlushState, "resume_at" | "blocked_until">,
  oldestAt: number,
  now: number,
): boolean {
  return now - Math.max(oldestAt, state.resume_at, state.blocked_until) > BEHIND_AFTER_MS;
}

/**
 * The state the lease guards once the entries of `records` are stored, with `writes` the pace's
 * recent writes: their dropped and set-aside events are added to what health reports, their stored
 * ones make now the last time events were stored, and since a write landed, GitHub takes them again, and in time.
 */
export function settledState(
  state: FlushState,
  records: readonly SpoolRecord[],
  writes: FlushState["writes"],
  clock: Clock,
): FlushState {
  const quarantined = records.reduce((total, record) => total + record.quarantined, 0);
  return {
    ...state,
    writes,
    dropped: addCounts(
      state.dropped,
      records.map((record) => record.dropped),
    ),
    ...(quarantined > 0 ? { quarantined: state.quarantined + quarantined, quarantined_at: clock.now() } : {}),
    ...(records.some((record) => record.events.length > 0) ? { stored_at: clock.now() } : {}),
    refusals: 0,
    refused_since: 0,
    timed_out_entry: null,
  };
}

function addCounts(
  total: Readonly<Record<string, number>>,
  counts: readonly Readonly<Record<string, number>>[],
): Record<string, number> {
  const sum = new Map(Object.entries(total));
  for (const count of counts) for (const [name, n] of Object.entries(count)) sum.set(name, (sum.get(name) ?? 0) + n);
  return Object.fromEntries(sum);
}
