import type { Clock } from "../clock.ts";
import { ROOT_README } from "../insights/dashboard-files.ts";
import type { FileChange, RepositoryFiles } from "../storage/repository-files.ts";
import { readRollup, ROLLUPS_DIR, type DayRollup } from "../tally/day-rollup.ts";
import { forgetInstalls } from "../tally/forget-installs.ts";
import { installHash } from "../tally/install-set.ts";
import { hwidsNamed, installMatcher } from "./install-matcher.ts";

/** A raw file's day, in either layout (`YYYY/MM/DD/NNNN.ndjson`, `YYYY/MM/DD.ndjson`). */
const DAY_OF_PATH = /(\d{4})\/(\d{2})\/(\d{2})(?:\/[^/]+|\.[^/]*)$/;
/** A day's rollup (`rollups/YYYY/YYYY-MM-DD.json`). */
const ROLLUP_PATH = new RegExp(`^${ROLLUPS_DIR}/\\d{4}/(\\d{4}-\\d{2}-\\d{2})\\.json$`);

/** Which files lose how many lines, and the commit of the files read. */
export interface ErasurePlan {
  head: string | undefined;
  files: { path: string; removed: number }[];
  /** Lines removed, by id (as stored). */
  lines: Map<string, number>;
  changes: FileChange[];
  /** The first day left unread (the reading ran out of time there); undefined when every day was read. */
  stoppedAt: string | undefined;
  /** Every id (as stored) the files read name: what the install index learns from a whole read. */
  seen: Set<string>;
  /** Every day's rollup the snapshot holds, by day, without what it kept of the installs (see forgetInstalls). */
  rollups: Map<string, DayRollup>;
  /** Samples, model names and sets of installs changed in those rollups (their changes are planned): the dashboard is rendered again. */
  forgotten: number;
  /** The root README as the snapshot holds it. */
  rootReadme: string | undefined;
}

export interface PlanOptions {
  prefix: string;
  /** The ids as stored: every form of each install (see hwidForms). */
  hwids: readonly string[];
  /** The same installs as the rollups name them (keyedInstall of each form, with the rollups' key); none: the rollups are not changed. */
  installs?: ReadonlySet<string>;
  deadline: number;
  /** Days before this are not searched for an id (an earlier run read them). */
  from?: ReadonlyMap<string, string>;
  /** Past this (epoch ms of `clock`), no new day is begun: the run commits what it has and the next goes on. */
  readBy?: { at: number; clock: Clock };
}

/**
 * Every line of the installs `hwids` in the raw files under `prefix`, read from one snapshot of
 * the branch: each file that holds one, rewritten without those lines, every other line kept byte
 * for byte and in order. Lines are found on their stored form (see installMatcher). A reading that
 * passes `readBy` stops at the next day and says where: every file of an earlier day is planned,
 * whatever order the files come in. Every rollup of the snapshot (days past retention included,
 * whose raw files are gone) is rewritten without the samples, model names and install hashes of `installs`.
 */
export async function planErasure(files: RepositoryFiles, options: PlanOptions): Promise<ErasurePlan> {
  const { prefix, hwids, installs = new Set<string>(), deadline, from = new Map<string, string>(), readBy } = options;
  const plan: ErasurePlan = {
    head: undefined,
    files: [],
    lines: new Map(hwids.map((hwid) => [hwid, 0])),
    changes: [],
    stoppedAt: undefined,
    seen: new Set(),
    rollups: new Map(),
    forgotten: 0,
    rootReadme: undefined,
  };
  // The sets of installs hold unkeyed hashes of the stored ids: forgotten along with what the rollups keep by name.
  const forgetting = { installs, hashes: new Set(options.installs ? hwids.map(installHash) : []) };
  let lastDay: string | undefined;
  const everyDay = installMatcher(hwids);
  const under = prefix === "" ? "" : `${prefix}/`;
  // The whole snapshot: the raw files under the prefix, and the rollups and README beside them (one archive all the same).
  const { head } = await files.readTree(
    "",
    (path, bytes) => {
      if (path === ROOT_README) plan.rootReadme = bytes.toString("utf8");
      const rollupDay = ROLLUP_PATH.exec(path)?.[1];
      if (rollupDay !== undefined) return forgetIn(plan, path, rollupDay, bytes, forgetting);
      if (!path.startsWith(under) || !path.endsWith(".ndjson")) return;
      const day = dayOf(path);
      if (plan.stoppedAt !== undefined && !(day < plan.stoppedAt)) return;
      const searched = from.size === 0 ? hwids : hwids.filter((hwid) => !(day < (from.get(hwid) ?? "")));
      // Only a day something is looked for in counts as begun.
      if (searched.length > 0 && plan.stoppedAt === undefined && readBy && lastDay !== undefined && day !== lastDay) {
        if (readBy.clock.now() > readBy.at) {
          plan.stoppedAt = day;
          return;
        }
      }
      if (searched.length > 0) lastDay = day;
      const text = bytes.toString("utf8");
      for (const hwid of hwidsNamed(text)) plan.seen.add(hwid);
      if (searched.length === 0) return;
      const matcher = searched === hwids ? everyDay : installMatcher(searched);
      if (!matcher.names(text)) return;
      let removed = 0;
      const kept = text.split("\n").filter((line) => {
        const hwid = matcher.ownerOf(line);
        if (hwid === undefined) return true;
        plan.lines.set(hwid, plan.lines.get(hwid)! + 1);
        removed += 1;
        return false;
      });
      if (removed === 0) return;
      plan.files.push({ path, removed });
      // A part left with no line is removed: git keeps no empty file worth keeping, and no reader misses it.
      const content = kept.join("\n");
      plan.changes.push({ path, content: content === "" ? null : content });
    },
    { deadline },
  );
  plan.head = head;
  return plan;
}

/** A rollup without what it kept of `installs`, planned when that changed it; one that does not parse is left to the hourly job to rebuild. */
function forgetIn(
  plan: ErasurePlan,
  path: string,
  day: string,
  bytes: Buffer,
  { installs, hashes }: { installs: ReadonlySet<string>; hashes: ReadonlySet<number> },
): void {
  let read;
  try {
    read = readRollup(JSON.parse(bytes.toString("utf8")));
  } catch {
    return;
  }
  if (!read) return;
  // One of format 2 is written back as format 3 when it changes.
  const { rollup, forgotten } = forgetInstalls(read.rollup, installs, hashes);
  plan.rollups.set(day, rollup);
  if (forgotten === 0) return;
  plan.forgotten += forgotten;
  plan.changes.push({ path, content: `${JSON.stringify(rollup)}\n` });
}

/** The day of a raw file's path; "" for a path of neither layout (read with the first day). */
function dayOf(path: string): string {
  const match = DAY_OF_PATH.exec(path);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : "";
}
