import type { StoredEvent } from "../events/stored-event.ts";
import { groupByDay } from "./layout/partition.ts";

/** Seconds a client is told to wait after a failure that says nothing more precise. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

export interface CommitOptions {
  /** Epoch ms (of the store's clock) by which to give up. */
  deadline: number;
  /** Awaited before every content write: where a caller paces writes against GitHub's limits. */
  beforeWrite?: () => Promise<void>;
}

/** Where events end up: a GitHub repository or a local folder, with the same file layout. */
export interface EventStore {
  /** What health reports: the kind of store and its target, never a secret. */
  describe(): StoreDescription;
  /** Which credentials the store uses, as a short digest that tells nothing of them: a refusal is theirs. */
  credentialsId(): string;
  /** When the credentials expire, as the store last learnt it (epoch ms); null when they do not, or it has not. */
  credentialsExpireAt(): number | null;
  /**
   * One write to one file: stores as many of the leading `batches` (all of one UTC day) as fit in
   * the day's newest file, skipping events it already holds (at least one batch is taken). Rejects
   * with StoreUnavailableError when that cannot be done now.
   */
  commit(batches: readonly (readonly StoredEvent[])[], options: CommitOptions): Promise<CommitResult>;
}

export interface CommitResult {
  /** How many of the leading batches are now stored. */
  batches: number;
  /** Events this commit added (the rest were there already). */
  events: number;
  /** The path written, or undefined when nothing needed writing. */
  path: string | undefined;
  /** Bytes sent: for GitHub the whole file, since the contents API takes no appends. */
  bytes: number;
}

export type StoreDescription =
  | { storage: "github"; repository: string; branch: string; prefix: string; api_url: string; max_file_bytes: number }
  | { storage: "local"; dir: string; prefix: string; max_file_bytes: number };

/** Why a store could not take events now. */
export type UnavailableReason = "busy" | "rate_limited" | "paced" | "refused" | "out_of_time";

/** The store cannot take events now; try again after `retryAfterSeconds`. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  readonly reason: UnavailableReason;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown; reason?: UnavailableReason },
  ) {
    super(message, options);
    this.reason = options?.reason ?? "busy";
  }
}

/**
 * GitHub's push protection refused the content: it holds what secret scanning takes for a secret.
 * Sending it again cannot succeed; the events that carry it must be found and set aside.
 */
export class PushProtectedError extends Error {
  override name = "PushProtectedError";
  constructor(
    /** The kinds of secret GitHub named (its bypass placeholders' `token_type`). */
    readonly tokenTypes: string[],
    options?: ErrorOptions,
  ) {
    super(`GitHub's push protection refused the content: it holds a secret (${tokenTypes.join(", ")})`, options);
  }
}

/** Stores `events` now, one commit per file and day, each event exactly once: the path without a spool. */
export async function appendEvents(
  store: EventStore,
  events: readonly StoredEvent[],
  options: CommitOptions,
): Promise<void> {
  for (const dayEvents of groupByDay(events, (event) => event.created_at)) {
    let batches = dayEvents.map((event) => [event]);
    while (batches.length > 0) batches = batches.slice((await store.commit(batches, options)).batches);
  }
}
