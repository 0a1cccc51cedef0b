import type { Clock } from "../clock.ts";
import type { FlushState } from "./flush-lease.ts";
import type { SpoolRecord } from "./spool.ts";

/**
 * The state the lease guards once the entries of `records` are stored, with `writes` the pace's
 * recent writes: their dropped and set-aside events are added to what health reports, and since a
 * write landed, GitHub takes them again, and in time.
 */
export function settledState(
  state: FlushState,
  records: readonly SpoolRecord[],
  writes: FlushState["writes"],
  clock: Clock,
): FlushState {
  const quarantined = records.reduce((total, record) => total + record.quarantined, 0);
  return {
    ...state,
    writes,
    dropped: addCounts(
      state.dropped,
      records.map((record) => record.dropped),
    ),
    ...(quarantined > 0 ? { quarantined: state.quarantined + quarantined, quarantined_at: clock.now() } : {}),
    refusals: 0,
    refused_since: 0,
    timed_out_entry: null,
  };
}

function addCounts(
  total: Readonly<Record<string, number>>,
  counts: readonly Readonly<Record<string, number>>[],
): Record<string, number> {
  const sum = new Map(Object.entries(total));
  for (const count of counts) for (const [name, n] of Object.entries(count)) sum.set(name, (sum.get(name) ?? 0) + n);
  return Object.fromEntries(sum);
}
