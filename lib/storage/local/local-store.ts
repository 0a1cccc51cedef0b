import { appendFile, mkdir, readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { StoredEvent } from "../../events/stored-event.ts";
import { appendToDay, type DayFiles } from "../append-to-day.ts";
import type { CommitOptions, CommitResult, EventStore, StoreDescription } from "../event-store.ts";
import { orWhenMissing } from "./or-when-missing.ts";

/**
 * The same file tree as the GitHub store, in a local folder: for `netlify dev` without a token.
 * Each commit is one `appendFile` (O_APPEND), so concurrent writers never interleave inside a line.
 */
export class LocalStore implements EventStore {
  private readonly files: DayFiles = {
    list: async (dir) => readdir(join(this.dir, dir)).catch(orWhenMissing([])),
    read: async (path) =>
      readFile(join(this.dir, path), "utf8")
        .then((text) => ({ text }))
        .catch(orWhenMissing(undefined)),
    write: async (path, { base, text }) => {
      const file = join(this.dir, path);
      await mkdir(dirname(file), { recursive: true });
      const chunk = text.slice(base.length);
      await appendFile(file, chunk);
      return Buffer.byteLength(chunk);
    },
  };

  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly maxFileBytes: number,
  ) {}

  describe(): StoreDescription {
    return { storage: "local", dir: this.dir, prefix: this.prefix, max_file_bytes: this.maxFileBytes };
  }

  credentialsId(): string {
    return "local";
  }

  credentialsExpireAt(): null {
    return null;
  }

  commit(batches: readonly (readonly StoredEvent[])[], options: CommitOptions): Promise<CommitResult> {
    return appendToDay(this.files, batches, { prefix: this.prefix, maxFileBytes: this.maxFileBytes }, options);
  }
}
