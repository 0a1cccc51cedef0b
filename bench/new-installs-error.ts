import { InstallSet, installHash } from "../lib/tally/install-set.ts";

/**
 * How far an estimated count of new installs (|S ∪ B| − |B|, see the README's New and returning
 * installs) lands from the truth once the sets are sketches: for installs known before (B) and a
 * day's installs (S, half of them new), the largest and the root-mean-square error over a few trials.
 * Run: node --experimental-transform-types --no-warnings bench/new-installs-error.ts
 */
const KNOWN = [12_000, 100_000, 1_000_000];
const DAY = [100, 1_000, 5_000];
const TRIALS = 10;

console.log("known      day    new  rms error  largest  largest / |S ∪ B|");
for (const known of KNOWN) {
  for (const day of DAY) {
    const errors: number[] = [];
    for (let trial = 0; trial < TRIALS; trial += 1) {
      const before = new InstallSet();
      for (let i = 0; i < known; i += 1) before.add(installHash(`known-${trial}-${i}`));
      const today = new InstallSet();
      for (let i = 0; i < day / 2; i += 1) today.add(installHash(`known-${trial}-${i}`));
      for (let i = 0; i < day / 2; i += 1) today.add(installHash(`new-${trial}-${i}`));
      const union = before.copy();
      union.merge(today);
      errors.push(Math.abs(union.estimate() - before.estimate() - day / 2));
    }
    const rms = Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / TRIALS);
    const largest = Math.max(...errors);
    const share = `${((largest / (known + day / 2)) * 100).toFixed(3)}%`;
    console.log(
      [known, day, day / 2, rms.toFixed(1), largest, share]
        .map((cell, i) => String(cell).padStart([9, 6, 6, 10, 8, 19][i]!))
        .join(" "),
    );
  }
}
