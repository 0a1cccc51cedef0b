import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { DayRollup } from "../lib/tally/day-rollup.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import type { CountParts, PartsTally } from "../lib/tally/tally-days.ts";
import type { MalformedLine } from "../lib/tally/tally-lines.ts";
import type { TallyJob } from "./tally-worker.ts";

const WORKER = new URL("./tally-worker.ts", import.meta.url);
/** A worker holds a part (10 MiB at most) and a tally: a small young generation collects its garbage often, keeping the peak low. */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 128 };

/**
 * Worker threads, one a core, that count a local folder's parts in parallel: parsing JSON is the
 * cost of a report, and a tally merges without loss, so each worker counts every n-th part and
 * the tallies are merged in the order of the parts' days.
 */
export function tallyPool(
  dir: string,
  size = availableParallelism(),
  script: URL = WORKER,
): { countParts: CountParts; close(): Promise<void> } {
  const workers = Array.from(
    { length: Math.max(1, size) },
    () => new Worker(script, { resourceLimits: WORKER_LIMITS }),
  );
  // Each run removes its own listeners (a report of many days would pile them up), and a worker that
  // ends without a result (its memory limit, a crash) fails the run rather than leaving it waiting.
  const run = (worker: Worker, job: TallyJob) =>
    new Promise<{ rollup: DayRollup } & Omit<PartsTally, "tally">>((resolve, reject) => {
      const settle =
        <T>(done: (value: T) => void) =>
        (value: T) => {
          worker.off("message", onMessage).off("error", onError).off("exit", onExit);
          done(value);
        };
      const onMessage = settle(resolve);
      const onError = settle(reject);
      const onExit = settle((code: number) =>
        reject(new Error(`a counting worker stopped (exit code ${code}) before it reported`)),
      );
      worker.on("message", onMessage).on("error", onError).on("exit", onExit);
      worker.postMessage(job);
    });
  return {
    countParts: async (parts, final) => {
      const shares = workers.map((_, w) => parts.filter((_, i) => i % workers.length === w).map((part) => part.path));
      const results = await Promise.all(workers.map((worker, w) => run(worker, { dir, paths: shares[w]!, final })));
      const tally = new EventTally();
      const malformed: MalformedLine[] = [];
      for (const result of results) {
        tally.merge(EventTally.fromRollup(result.rollup));
        malformed.push(...result.malformed);
      }
      tally.ingest.parts = parts.length;
      malformed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
      return {
        tally,
        malformed,
        bytesRead: results.reduce((sum, r) => sum + r.bytesRead, 0),
        filesRead: parts.length,
      };
    },
    close: async () => {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
