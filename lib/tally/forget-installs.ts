import type { DayRollup } from "./day-rollup.ts";

/** What forgetting some installs left of a rollup, and how many samples and model names went. */
export interface Forgotten {
  rollup: DayRollup;
  forgotten: number;
}

/**
 * A rollup without what it kept of some installs by name: their error samples (a group's next
 * install's sample takes the place, or none is left) and the model names only they registered (the
 * model's entry goes, its counts with it; a name more installs registered stays). `installs` are
 * keyed hashes, `keyedInstall(installKey, hwid)` of each install's stored id with the key the rollups
 * were counted with. Counts and sketches stay: they hold no id. Rebuilding the day from its files
 * once they were rewritten gives the same samples and names.
 */
export function forgetInstalls(rollup: DayRollup, installs: ReadonlySet<string>): Forgotten {
  let forgotten = 0;
  const errors = rollup.errors.map((group) => {
    const samples = group.samples.filter((sample) => !installs.has(sample.install));
    forgotten += group.samples.length - samples.length;
    return { ...group, samples };
  });
  const models = rollup.models.flatMap((model) => {
    const namedBy = model.named_by.filter((install) => !installs.has(install));
    if (namedBy.length === model.named_by.length) return [model];
    forgotten += 1;
    return namedBy.length === 0 && !model.named_by_others ? [] : [{ ...model, named_by: namedBy }];
  });
  return { rollup: forgotten === 0 ? rollup : { ...rollup, errors, models }, forgotten };
}
