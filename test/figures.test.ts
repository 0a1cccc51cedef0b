import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EventTally } from "../lib/tally/event-tally.ts";
import { FIGURES } from "../lib/tally/figures.ts";
import { generateDataset } from "./support/insights-dataset.ts";

const { events } = generateDataset();
const real = events.filter((e) => e.client_type !== "unit-tests");
const tests = events.filter((e) => e.client_type === "unit-tests");

function tallyOf(lines: readonly (typeof events)[number][]): EventTally {
  const tally = new EventTally();
  for (const event of lines) tally.add(event);
  return tally;
}

describe.each(Object.entries(FIGURES))("the figure %s", (name, Kind) => {
  const whole = tallyOf(real).figures[name as keyof typeof FIGURES];

  it("writes exactly its keys of the rollup, valid by its schema, and reads them back unchanged", () => {
    const encoded = whole.encode();
    expect(Object.keys(encoded)).toEqual(Object.keys(Kind.shape));
    const parsed = z.object(Kind.shape).parse(JSON.parse(JSON.stringify(encoded)));
    expect(parsed).toEqual(encoded);
    expect(Kind.decode(parsed as never).encode()).toEqual(encoded);
  });

  it("merges two halves into the figure of the whole", () => {
    const half = Math.floor(real.length / 2);
    const merged = tallyOf(real.slice(0, half));
    merged.merge(tallyOf(real.slice(half)));
    expect(merged.figures[name as keyof typeof FIGURES].encode()).toEqual(whole.encode());
  });

  it("never sees a test client's lines", () => {
    const tally = tallyOf(tests);
    expect(tests.length).toBeGreaterThan(0);
    expect(tally.ingest.test_events).toBe(tests.length);
    expect(tally.figures[name as keyof typeof FIGURES].encode()).toEqual(new Kind().encode());
  });
});
