import type { CommitResult } from "../storage/event-store.ts";
import type { LastFlush } from "./flush-lease.ts";

/** What a flusher's run stored, across all its rounds: the figures its `last_flush` reports. */
export class RunFigures {
  private events = 0;
  private commits = 0;
  private bytes = 0;
  private readonly files = new Set<string>();

  /** Counts a commit; one that wrote no file (its events were all stored before) is no commit. */
  add(result: CommitResult): void {
    if (result.path) {
      this.commits += 1;
      this.files.add(result.path);
    }
    this.events += result.events;
    this.bytes += result.bytes;
  }

  summary(started: number, now: number, error: string | null): LastFlush {
    return {
      at: new Date(now).toISOString(),
      events: this.events,
      commits: this.commits,
      files: this.files.size,
      bytes: this.bytes,
      duration_ms: now - started,
      error,
    };
  }
}
