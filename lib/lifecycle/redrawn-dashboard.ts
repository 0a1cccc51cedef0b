import type { Clock } from "../clock.ts";
import { dayOf } from "../day.ts";
import { dashboardFiles, dashboardStart } from "../insights/dashboard-files.ts";
import type { FlushLease } from "../spool/flush-lease.ts";
import type { FileChange } from "../storage/repository-files.ts";
import { EventTally } from "../tally/event-tally.ts";
import type { ErasurePlan } from "./plan-erasure.ts";

/** The dashboard drawn again from the snapshot's rollups, once they forgot the installs: it showed their samples. */
export async function redrawnDashboard(
  plan: Pick<ErasurePlan, "rollups" | "rootReadme">,
  { clock, lease }: { clock: Clock; lease: FlushLease | undefined },
): Promise<FileChange[]> {
  const today = dayOf(clock.now());
  const first = dashboardStart(today);
  const days = [...plan.rollups.values()]
    .filter((rollup) => rollup.day >= first && rollup.day <= today)
    .map((rollup) => ({ day: rollup.day, tally: EventTally.fromRollup(rollup) }));
  return dashboardFiles({
    days,
    today,
    updatedAt: new Date(clock.now()).toISOString(),
    state: await lease?.read(),
    rootReadme: plan.rootReadme,
  });
}
