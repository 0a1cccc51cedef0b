// A worker thread of `telemetry report` and `dashboard`: counts the parts it is sent with the rollups' own code, and posts the tally back as a rollup.
import { parentPort } from "node:worker_threads";
import { EventTally } from "../lib/tally/event-tally.ts";
import { tallyLines, type MalformedLine } from "../lib/tally/tally-lines.ts";
import { LocalFiles } from "../lib/storage/local-files.ts";

export interface TallyJob {
  dir: string;
  paths: string[];
  final: boolean;
}

parentPort?.on("message", async ({ dir, paths, final }: TallyJob) => {
  const files = new LocalFiles(dir);
  const tally = new EventTally();
  const malformed: MalformedLine[] = [];
  let bytesRead = 0;
  // The next part is read while this one is counted.
  let next = paths.length > 0 ? files.read(paths[0]!) : undefined;
  for (const [i, path] of paths.entries()) {
    const bytes = await next;
    next = i + 1 < paths.length ? files.read(paths[i + 1]!) : undefined;
    if (!bytes) continue;
    bytesRead += bytes.length;
    const tallied = tallyLines(tally, bytes, { path, firstLine: 1 }, { final });
    tally.ingest.bytes += tallied.bytes;
    malformed.push(...tallied.malformed);
  }
  const rollup = tally.toRollup({
    day: "1970-01-01",
    updated_at: new Date(0).toISOString(),
    complete: final,
    source: null,
    parts: [],
  });
  parentPort!.postMessage({ rollup, malformed, bytesRead, filesRead: paths.length });
});
