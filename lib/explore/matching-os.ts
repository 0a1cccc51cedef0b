import { normalizeOs } from "../tally/normalize-os.ts";
import type { LineFilter } from "./explore-query.ts";

/**
 * The OS strings clients sent that an OS filter stands for, as the report groups them (normalizeOs):
 * the raw files are then selected by the strings themselves.
 */
export function matchingOs(reported: readonly string[], os: NonNullable<LineFilter["os"]>): string[] {
  return reported.filter((name) => {
    const { family, version } = normalizeOs(name);
    return family === os.family && (os.version === undefined || version === os.version);
  });
}
