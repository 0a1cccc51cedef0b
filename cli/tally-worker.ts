// A worker thread of `telemetry report` and `dashboard`: counts the parts it is sent with the rollups' own code, and posts the tally back as a rollup.
import { parentPort } from "node:worker_threads";
import { systemClock } from "../lib/clock.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { tallyParts } from "../lib/tally/tally-parts.ts";
import { LocalFiles } from "../lib/storage/local/local-files.ts";

/** The next part is read while this one is counted: a worker holds two parts at most. */
const READS_IN_FLIGHT = 2;

export interface TallyJob {
  dir: string;
  paths: string[];
  final: boolean;
}

// A failure rejects into the thread, which then ends with an error the pool sees.
parentPort?.on("message", (job: TallyJob) => void countJob(job));

async function countJob({ dir, paths, final }: TallyJob): Promise<void> {
  const tally = new EventTally();
  const { malformed, bytesRead } = await tallyParts(
    tally,
    new LocalFiles(dir),
    paths.map((path) => ({ path })),
    { final, deadline: Infinity, clock: systemClock, readsInFlight: READS_IN_FLIGHT },
  );
  const rollup = tally.toRollup({
    day: "1970-01-01",
    updated_at: new Date(0).toISOString(),
    complete: final,
    source: null,
    parts: [],
  });
  parentPort!.postMessage({ rollup, malformed, bytesRead, filesRead: paths.length });
}
