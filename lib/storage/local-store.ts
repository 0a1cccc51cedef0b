import { appendFile, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { StoredEvent } from "../events/event.ts";
import { latestPart, partitionOf, partPath } from "./partition.ts";
import { planAppend } from "./plan-append.ts";
import { appendLines } from "./ndjson.ts";
import type { CommitOptions, CommitResult, EventStore, StoreDescription } from "./store.ts";

/**
 * The same file tree as the GitHub store, in a local folder: for `netlify dev` without a token.
 * Each commit is one `appendFile` (O_APPEND), so concurrent writers never interleave inside a line.
 */
export class LocalStore implements EventStore {
  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly maxFileBytes: number,
  ) {}

  describe(): StoreDescription {
    return { storage: "local", dir: this.dir, prefix: this.prefix, max_file_bytes: this.maxFileBytes };
  }

  async commit(batches: readonly (readonly StoredEvent[])[], { beforeWrite }: CommitOptions): Promise<CommitResult> {
    const first = batches.find((batch) => batch.length > 0)?.[0];
    if (!first) return { batches: batches.length, events: 0, path: undefined, bytes: 0 };
    const partition = partitionOf(first.created_at, this.prefix);
    const folder = join(this.dir, partition.dir);
    await mkdir(folder, { recursive: true });
    const latest = latestPart(
      (await readdir(folder)).map((name) => ({ name })),
      partition.day,
    );
    const text = latest ? await readFile(join(this.dir, partPath(partition, latest.part)), "utf8") : undefined;
    const plan = planAppend(
      latest && text !== undefined ? { part: latest.part, text } : undefined,
      batches,
      this.maxFileBytes,
    );
    if (plan.lines.length === 0) return { batches: plan.taken, events: 0, path: undefined, bytes: 0 };
    await beforeWrite?.();
    const path = partPath(partition, plan.part);
    const chunk = appendLines(plan.base, plan.lines).slice(plan.base.length);
    await appendFile(join(this.dir, path), chunk);
    return { batches: plan.taken, events: plan.lines.length, path, bytes: Buffer.byteLength(chunk) };
  }
}
