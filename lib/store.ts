import type { StoredEvent } from "./event.ts";

/** Seconds a client is told to wait after a failure that says nothing more precise. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** Where events end up: a GitHub repository or a local folder, with the same file layout. */
export interface EventStore {
  /** What health reports: the kind of store and its target, never a secret. */
  describe(): StoreDescription;
  /**
   * Appends the events, each exactly once, before `deadline` (epoch ms). Resolves when all are
   * stored; rejects with StoreUnavailableError when they cannot be now.
   */
  append(events: readonly StoredEvent[], deadline: number): Promise<void>;
}

export type StoreDescription =
  | { storage: "github"; repository: string; branch: string; prefix: string; api_url: string; max_file_bytes: number }
  | { storage: "local"; dir: string; prefix: string; max_file_bytes: number };

/** The store cannot take events now; the client should send them again after `retryAfterSeconds`. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
