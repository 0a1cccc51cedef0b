import type { StoredEvent } from "./stored-event.ts";
import { prepareEvent, type EventContext } from "./prepare-event.ts";
import type { BatchItem, Rejection } from "./read-batch.ts";

/** A request's events, each in the one place it goes. */
export interface SortedEvents {
  /** To keep, each event_id once. */
  kept: StoredEvent[];
  /** Ids of kept events that the client gave: they may come again, so the flusher remembers them. */
  clientIds: string[];
  /** Events whose event_id an earlier event of the request already had. */
  duplicates: number;
  /** Valid events of a client type that is answered and not stored, by client type. */
  dropped: Record<string, number>;
  rejected: Rejection[];
  /** Top-level keys the envelope does not define, of the last event kept (reported for single-event bodies). */
  ignored: string[];
}

/** Sorts each event of a batch: kept, a duplicate within the request, dropped by client type, or rejected. */
export function sortEvents(items: readonly BatchItem[], context: EventContext): SortedEvents {
  const sorted: SortedEvents = { kept: [], clientIds: [], duplicates: 0, dropped: {}, rejected: [], ignored: [] };
  const keptIds = new Set<string>();
  // A Map, not the answer's object: a client type may be any string, "__proto__" among them.
  const dropped = new Map<string, number>();
  for (const item of items) {
    if ("issues" in item) {
      sorted.rejected.push(item);
      continue;
    }
    const prepared = prepareEvent(item.value, context);
    if (prepared.kind === "rejected") sorted.rejected.push({ index: item.index, issues: prepared.issues });
    else if (prepared.kind === "dropped") dropped.set(prepared.clientType, (dropped.get(prepared.clientType) ?? 0) + 1);
    else if (keptIds.has(prepared.event.event_id)) sorted.duplicates += 1;
    else {
      sorted.kept.push(prepared.event);
      keptIds.add(prepared.event.event_id);
      if (prepared.clientId) sorted.clientIds.push(prepared.event.event_id);
      sorted.ignored = prepared.ignored;
    }
  }
  return { ...sorted, dropped: Object.fromEntries(dropped) };
}
