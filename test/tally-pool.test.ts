import { expect, it } from "vitest";
import { tallyPool } from "../cli/tally-pool.ts";

/** A counting worker that ends without a word, as one killed by its memory limit does. */
const DYING_WORKER = new URL(
  "data:text/javascript,import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(3));",
);

it("fails with one line, instead of hanging, when a counting worker dies before it reports", async () => {
  const pool = tallyPool("/nonexistent", 2, DYING_WORKER);
  try {
    const counting = pool.countParts([{ path: "a.ndjson" }, { path: "b.ndjson" }] as never, true);
    await expect(counting).rejects.toThrow(/^a counting worker stopped \(exit code 3\) before it reported$/);
  } finally {
    await pool.close();
  }
});
