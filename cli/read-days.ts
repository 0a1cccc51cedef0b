import type { Command } from "commander";
import { systemClock } from "../lib/clock.ts";
import { ROLLUPS_DIR } from "../lib/tally/day-rollup.ts";
import { tallyDays, type TalliedDays } from "../lib/tally/tally-days.ts";
import { openData } from "./options.ts";
import { tallyPool } from "./tally-pool.ts";

/** The tallies of the days from `from` to `to`, from `--github` or a local folder (counted in worker threads, one a core). */
export async function readDays(
  command: Command,
  options: { data?: string; github?: string },
  from: string,
  to: string,
): Promise<TalliedDays> {
  const { files, config, dir } = await openData(command, options);
  const pool = dir === undefined ? undefined : tallyPool(dir);
  try {
    return await tallyDays(files, {
      prefix: config.pathPrefix,
      rollupsDir: ROLLUPS_DIR,
      from,
      to,
      clock: systemClock,
      ...(pool ? { countParts: pool.countParts } : {}),
    });
  } finally {
    await pool?.close();
  }
}
