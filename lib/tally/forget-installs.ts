import type { DayRollup } from "./day-rollup.ts";
import { InstallSet } from "./install-set.ts";

/** What forgetting some installs left of a rollup, and how many samples, model names and sets of installs changed. */
export interface Forgotten {
  rollup: DayRollup;
  forgotten: number;
}

/**
 * A rollup without what it kept of some installs: their error samples (a group's next install's
 * sample takes the place, or none is left), the model names only they registered (the model's
 * entry goes, its counts with it; a name more installs registered stays), and their hashes in
 * every set of installs still exact (a sketch cannot forget one). `installs` are keyed hashes,
 * `keyedInstall(installKey, hwid)` of each install's stored id with the key the rollups were
 * counted with; `hashes` are `installHash` of the same ids. Counts stay. Rebuilding the day from
 * its files once they were rewritten gives the same samples, names and sets.
 */
export function forgetInstalls(
  rollup: DayRollup,
  installs: ReadonlySet<string>,
  hashes: ReadonlySet<number>,
): Forgotten {
  let forgotten = 0;
  const forget = <T extends { installs: string }>(figures: T): T => {
    if (hashes.size === 0) return figures;
    const set = InstallSet.decode(figures.installs);
    if (set.forgetAll(hashes) === 0) return figures;
    forgotten += 1;
    return { ...figures, installs: set.encode() };
  };
  const errors = rollup.errors.map((group) => {
    const samples = group.samples.filter((sample) => !installs.has(sample.install));
    forgotten += group.samples.length - samples.length;
    return forget({ ...group, samples });
  });
  const models = rollup.models.flatMap((model) => {
    const namedBy = model.named_by.filter((install) => !installs.has(install));
    if (namedBy.length === model.named_by.length) return [forget(model)];
    forgotten += 1;
    return namedBy.length === 0 && !model.named_by_others ? [] : [forget({ ...model, named_by: namedBy })];
  });
  const day = forget(rollup);
  const events = rollup.events.map(forget);
  const versions = rollup.versions.map(forget);
  const os = rollup.os.map(forget);
  const countries = rollup.countries.map(forget);
  return {
    rollup: forgotten === 0 ? rollup : { ...day, events, versions, os, countries, errors, models },
    forgotten,
  };
}
