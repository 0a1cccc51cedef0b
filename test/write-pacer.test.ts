import { describe, expect, it } from "vitest";
import { nextWriteAt } from "../lib/spool/write-pacer.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const limits = { perMinute: 60, perHour: 400 };

/** `count` writes `spacing` ms apart, the last one at `last`. */
const writes = (count: number, spacing: number, last: number) =>
  Array.from({ length: count }, (_, i) => last - (count - 1 - i) * spacing);

describe("the write pace", () => {
  it("lets a quiet hour write at once, then one write a second", () => {
    const now = 10 * HOUR;
    expect(nextWriteAt([], now, limits)).toBe(now);
    expect(nextWriteAt([now - 5 * MINUTE], now, limits)).toBe(now);
    expect(nextWriteAt([now - 200], now, limits)).toBe(now + 800);
  });

  it("spreads the rest of the hour's budget evenly once its burst share is spent", () => {
    const now = 10 * HOUR;
    const burst = writes(10, 1000, now - 100);
    expect(nextWriteAt(burst, now, limits)).toBe(now - 100 + HOUR / 400);
    expect(nextWriteAt(writes(9, 1000, now - 100), now, limits)).toBe(now + 900);
  });

  it("never allows more than the per-minute limit in any minute", () => {
    const now = 10 * HOUR;
    const minuteFull = writes(5, 100, now - 100);
    const next = nextWriteAt(minuteFull, now, { perMinute: 5, perHour: 10_000 });
    expect(next).toBe(minuteFull[0]! + MINUTE);
  });

  it("never allows more than the per-hour limit in any hour", () => {
    const now = 10 * HOUR;
    const hourFull = writes(400, 9000, now - 1000);
    const next = nextWriteAt(hourFull, now, limits);
    expect(next).toBe(hourFull[0]! + HOUR);
    const windowOf = (at: number) => [...hourFull, next].filter((time) => time > at - HOUR && time <= at).length;
    expect(windowOf(next)).toBe(400);
  });

  it("keeps an hour of steady writing within both limits", () => {
    let now = 0;
    const log: number[] = [];
    while (now < 2 * HOUR) {
      now = nextWriteAt(log, now, limits);
      log.push(now);
      now += 300;
    }
    for (const at of log) {
      expect(log.filter((time) => time > at - MINUTE && time <= at).length).toBeLessThanOrEqual(60);
      expect(log.filter((time) => time > at - HOUR && time <= at).length).toBeLessThanOrEqual(400);
    }
    expect(log.filter((time) => time >= HOUR && time < 2 * HOUR).length).toBe(400);
  });
});
