import { appendFile, mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { StoredEvent } from "./event.ts";
import { toLine } from "./ndjson.ts";
import { groupByPartition, latestPart, linesThatFit, partPath } from "./partition.ts";
import type { EventStore, StoreDescription } from "./store.ts";

/**
 * The same file tree as the GitHub store, in a local folder: for `netlify dev` without a token.
 * Each append is one `appendFile` per part (O_APPEND), so concurrent requests never interleave
 * inside a line.
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

  async append(events: readonly StoredEvent[]): Promise<void> {
    for (const { partition, events: dayEvents } of groupByPartition(events, this.prefix).values()) {
      const folder = join(this.dir, partition.dir);
      await mkdir(folder, { recursive: true });
      const current = latestPart(await sizedEntries(folder), partition.day) ?? { part: 1, size: 0 };
      let lines = dayEvents.map(toLine);
      while (lines.length > 0) {
        const fit = linesThatFit(current.size, lines.map((line) => Buffer.byteLength(line)), this.maxFileBytes);
        if (fit === 0) {
          current.part += 1;
          current.size = 0;
          continue;
        }
        const chunk = lines.slice(0, fit).join("");
        await appendFile(join(this.dir, partPath(partition, current.part)), chunk);
        current.size += Buffer.byteLength(chunk);
        lines = lines.slice(fit);
      }
    }
  }
}

async function sizedEntries(folder: string): Promise<{ name: string; size: number }[]> {
  const names = await readdir(folder);
  return Promise.all(names.map(async (name) => ({ name, size: (await stat(join(folder, name))).size })));
}
