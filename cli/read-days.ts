import type { Command } from "commander";
import { systemClock } from "../lib/clock.ts";
import { readPeriod } from "../lib/insights/read-period.ts";
import { verifyRollups, type RollupCheck } from "../lib/insights/verify-rollups.ts";
import { tallyDays, type TalliedDays } from "../lib/tally/tally-days.ts";
import type { DataSpan } from "./data-span.ts";
import { openData } from "./options.ts";
import { tallyPool } from "./tally-pool.ts";

/**
 * The tallies of the days from `from` to `to`. From `--github`, each day from its rollup where the rollup is
 * current (else continued from it, or read from the files, in one download: see readPeriod); from a local
 * folder, from the raw files, counted in worker threads, one a core: the disk is fast, and a folder has no
 * git ids to tell a rollup current without reading the files anyway. With them, `span`, the days the data
 * holds, and `where`, what was read, for noteEmptyPeriod (found on opening: not asked for again).
 */
export async function readDays(
  command: Command,
  options: { data?: string; github?: string },
  from: string,
  to: string,
): Promise<TalliedDays & { span?: DataSpan; where: string }> {
  const { files, config, dir, span } = await openData(command, options);
  const held = { ...(span ? { span } : {}), where: options.data ?? files.describe() };
  if (dir === undefined)
    return { ...(await readPeriod(files, { prefix: config.pathPrefix, from, to, clock: systemClock })), ...held };
  const pool = tallyPool(dir);
  try {
    const read = await tallyDays(files, {
      prefix: config.pathPrefix,
      from,
      to,
      clock: systemClock,
      countParts: pool.countParts,
    });
    return { ...read, ...held };
  } finally {
    await pool.close();
  }
}

/** The period's rollups held against its raw files (see verifyRollups). */
export async function checkRollups(
  command: Command,
  options: { data?: string; github?: string },
  from: string,
  to: string,
): Promise<RollupCheck> {
  const { files, config } = await openData(command, options);
  return verifyRollups(files, { prefix: config.pathPrefix, from, to, clock: systemClock });
}
