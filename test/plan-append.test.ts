import { v7 as uuidv7 } from "uuid";
import { describe, expect, it } from "vitest";
import { toStoredEvent, type StoredEvent } from "../lib/events/stored-event.ts";
import { ndjsonLine } from "../lib/storage/ndjson-line.ts";
import { planAppend } from "../lib/storage/plan-append.ts";

function event(): StoredEvent {
  return toStoredEvent(
    { hwid: "h", event_name: "app_launch", app_version: "1.0.0", client_type: "vector-inspector", metadata: {} },
    { eventId: uuidv7(), createdAt: new Date("2026-11-22T10:00:00.000Z"), ip: null },
  );
}
const lineBytes = Buffer.byteLength(ndjsonLine(event()));

describe("planning one write", () => {
  it("appends every batch to a new day's first part", () => {
    const batches = [[event(), event()], [event()]];
    expect(planAppend(undefined, batches, 1024 * 1024)).toEqual({
      part: 1,
      base: "",
      lines: batches.flat().map(ndjsonLine),
      taken: 2,
    });
  });

  it("leaves out events the file already holds, and counts batches wholly there as stored", () => {
    const [a, b, c] = [event(), event(), event()];
    const text = ndjsonLine(a) + ndjsonLine(b);
    const plan = planAppend({ part: 3, text }, [[a], [b, c]], 1024 * 1024);
    expect(plan).toEqual({ part: 3, base: text, lines: [ndjsonLine(c)], taken: 2 });
    expect(planAppend({ part: 3, text }, [[a], [b]], 1024 * 1024)).toMatchObject({ lines: [], taken: 2 });
  });

  it("never splits a batch across files, and starts the next part only when the latest is full", () => {
    const text = ndjsonLine(event());
    const cap = lineBytes * 3;
    const plan = planAppend({ part: 1, text }, [[event()], [event(), event()], [event()]], cap);
    expect(plan).toMatchObject({ part: 1, taken: 1 });
    expect(plan.lines).toHaveLength(1);

    const full = ndjsonLine(event()).repeat(3);
    const next = planAppend({ part: 1, text: full }, [[event(), event()], [event()], [event(), event()]], cap);
    expect(next).toMatchObject({ part: 2, base: "", taken: 2 });
    expect(next.lines).toHaveLength(3);
  });

  it("puts a batch larger than the cap alone in a part rather than refuse it", () => {
    const big = Array.from({ length: 10 }, event);
    const plan = planAppend({ part: 4, text: ndjsonLine(event()) }, [big, [event()]], lineBytes * 3);
    expect(plan).toMatchObject({ part: 5, base: "", taken: 1 });
    expect(plan.lines).toHaveLength(10);
  });

  it("decides on a new part by the latest part and the first batch alone, never by how much waits behind it", () => {
    const cap = lineBytes * 10;
    const seven = ndjsonLine(event()).repeat(7);
    const first = [event(), event()];
    const few = planAppend({ part: 2, text: seven }, [first], cap);
    const many = planAppend({ part: 2, text: seven }, [first, [event(), event()], [event(), event()]], cap);
    expect(few).toMatchObject({ part: 2, base: seven, taken: 1 });
    expect(many).toMatchObject({ part: 2, base: seven, taken: 1 });
    expect(many.lines).toEqual(few.lines);
  });

  it("stores an event carried by two batches once", () => {
    const [a, b] = [event(), event()];
    const plan = planAppend(undefined, [[a], [a, b]], 1024 * 1024);
    expect(plan).toMatchObject({ taken: 2, lines: [ndjsonLine(a), ndjsonLine(b)] });
  });
});
