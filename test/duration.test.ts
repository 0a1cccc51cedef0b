import { describe, expect, it } from "vitest";
import { duration } from "../lib/present/duration.ts";

describe("a duration as the dashboard shows it", () => {
  it.each([
    [350, "350 ms"],
    [4.26, "4.3 ms"],
    [999.4, "999 ms"],
    [999.6, "1.0 s"],
    [1_234, "1.2 s"],
    [9_960, "10 s"],
    [59_400, "59 s"],
    [59_600, "1m 0s"],
    [1_545_000, "25m 45s"],
    [3_599_600, "1h 0m"],
    [7_500_000, "2h 5m"],
    [(2 * 3600 + 59 * 60 + 45) * 1000, "3h 0m"],
  ])("%d ms is %s", (ms, shown) => {
    expect(duration(ms)).toBe(shown);
  });
});
