import type { Spool } from "../spool/spool.ts";

/** Drops the waiting events of `hwids` (as stored) from the spool (the caller holds the lease: no flush reads it meanwhile); counts by id. */
export async function dropWaiting(spool: Spool, hwids: ReadonlySet<string>): Promise<Map<string, number>> {
  const dropped = new Map<string, number>();
  const entries = await spool.list();
  const records = await spool.read(entries);
  for (const [i, record] of records.entries()) {
    const kept = record.events.filter((event) => !hwids.has(event.hwid));
    if (kept.length === record.events.length) continue;
    for (const event of record.events) {
      if (hwids.has(event.hwid)) dropped.set(event.hwid, (dropped.get(event.hwid) ?? 0) + 1);
    }
    const keptIds = new Set(kept.map((event) => event.event_id));
    const entry = entries[i]!;
    if (kept.length === 0) await spool.remove([entry]);
    else
      await spool.rewrite(entry, {
        ...record,
        events: kept,
        client_ids: record.client_ids.filter((id) => keptIds.has(id)),
      });
  }
  return dropped;
}
