import { InstallSet } from "../install-set.ts";
import { keyOrder, type TallyLine } from "./figure.ts";

/** What a figure counts of each value it breaks the lines down by (an event name, a version, an error group). */
export interface Breakdown {
  received: number;
  estimated: number;
  installs: InstallSet;
}

/** The figures of `key`, new ones (with `extra`'s fields) the first time. */
export function breakdownOf<T extends Breakdown>(
  map: Map<string, T>,
  key: string,
  extra: () => Omit<T, keyof Breakdown>,
): T {
  let figures = map.get(key);
  if (!figures) {
    figures = { received: 0, estimated: 0, installs: new InstallSet(), ...extra() } as T;
    map.set(key, figures);
  }
  return figures;
}

export function countLine(figures: Breakdown, { weight, hash }: TallyLine): void {
  figures.received += 1;
  figures.estimated += weight;
  figures.installs.add(hash);
}

export function mergeBreakdowns<T extends Breakdown>(
  ours: Map<string, T>,
  theirs: Map<string, T>,
  extra: () => Omit<T, keyof Breakdown>,
  mergeExtra?: (a: T, b: T) => void,
): void {
  for (const [key, figures] of theirs) {
    const into = breakdownOf(ours, key, extra);
    into.received += figures.received;
    into.estimated += figures.estimated;
    into.installs.merge(figures.installs);
    mergeExtra?.(into, figures);
  }
}

/** Most frequent first (sampling weights applied), then by key. */
export function sortedBreakdowns<T extends { estimated: number }, R>(
  map: Map<string, T>,
  shape: (key: string, figures: T) => R,
): R[] {
  return [...map]
    .sort(([a, fa], [b, fb]) => fb.estimated - fa.estimated || keyOrder(a, b))
    .map(([key, figures]) => shape(key, figures));
}

/** Figures as a rollup stores them: the set of installs as text, in its place. */
export function encodeInstalls<T extends { installs: InstallSet }>(figures: T) {
  return { ...figures, installs: figures.installs.encode() };
}

export function decodeInstalls<T extends { installs: string }>(figures: T) {
  return { ...figures, installs: InstallSet.decode(figures.installs) };
}
