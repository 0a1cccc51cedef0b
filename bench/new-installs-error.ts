import { installCohorts } from "../lib/present/cohorts/install-cohorts.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { InstallSet, installHash } from "../lib/tally/install-set.ts";

/**
 * How far an estimated count of new installs (|S ∪ B| − |B|, see the README's New and returning
 * installs) lands from the truth once the sets are sketches: for installs known before (B) and a
 * day's installs (S, half of them new), the largest and the root-mean-square error over a few trials;
 * then how long a report's new and returning installs and retention take, exact and estimated. Run: node --experimental-transform-types --no-warnings bench/new-installs-error.ts
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

/** 91 days of 3,000 installs a day over 8 versions, drawn from `installs`; the time of 30 and 90 days' figures. */
function timeCohorts(installs: number): void {
  const days = Array.from({ length: 91 }, (_, d) => new Date(Date.parse("2026-08-01") + d * 86_400_000).toISOString());
  let n = 0;
  const tallies = days.map((at, d) => {
    const tally = new EventTally();
    for (let i = 0; i < 3_000; i += 1) {
      n += 1;
      tally.add({
        event_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
        created_at: at,
        ip: null,
        hwid: `install-${(d * 1_000 + i * 7) % installs}`,
        event_name: "app_launch",
        app_version: `1.${i % 8}.0`,
        client_type: "vector-inspector",
        metadata: { os: "Linux-6.1" },
      });
    }
    return { day: at.slice(0, 10), tally };
  });
  for (const from of ["2026-10-01", "2026-08-02"]) {
    const start = performance.now();
    const { new_installs } = installCohorts(tallies, from, "2026-10-30", "day");
    const took = Math.round(performance.now() - start);
    console.log(`${installs} installs, ${from} to 2026-10-30: ${took} ms (exact: ${new_installs.exact})`);
  }
}

console.log("");
timeCohorts(9_000);
timeCohorts(40_000);
