import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { periodReport, type DayTally } from "../lib/present/period-report.ts";
import { dayRollupSchema } from "../lib/tally/day-rollup.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { HyperLogLog } from "../lib/tally/hyper-log-log.ts";
import { installHash, InstallSet } from "../lib/tally/install-set.ts";
import { normalizeOs } from "../lib/tally/normalize-os.ts";
import { legacySketch } from "./support/legacy-sketch.ts";

/** What a rollup may spend on one set of installs, whatever it counts. */
const MAX_ENCODED_CHARS = 80_000;
const VERSIONS = ["1.0.0", "1.1.0", "1.2.0", "2.0.0"];
const OS = ["Windows-10-10.0.19045-SP0", "Windows-10-10.0.22631-SP0", "Darwin-23.1.0", "Darwin-24.0.0", "Linux-6.1"];
const MODELS = ["all-MiniLM-L6-v2", "bge-small-en", "e5-large"];
const DAYS = ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"];

/** A small deterministic generator (mulberry32), so that the installs are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Installs drawn at random across versions, OSes, models and error groups, each active some of the days. */
function heldOut(installs: number, seed: number): StoredEvent[] {
  const random = seeded(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const events: StoredEvent[] = [];
  for (let i = 0; i < installs; i += 1) {
    const hwid = `held-out-${seed}-${i}-${random().toString(36).slice(2)}`;
    const [version, os, model] = [pick(VERSIONS), pick(OS), pick(MODELS)];
    for (const day of DAYS) {
      if (random() < 0.4) continue;
      const emit = (event_name: string, metadata: Record<string, unknown>) =>
        events.push({
          event_id: `00000000-0000-4000-8000-${String(events.length).padStart(12, "0")}`,
          created_at: `${day}T12:00:00.000Z`,
          ip: null,
          hwid,
          event_name,
          app_version: version,
          client_type: "vector-inspector",
          metadata,
        });
      emit("app_launch", { os });
      if (random() < 0.5) emit("query.executed", { latency_ms: 20, success: true });
      if (random() < 0.3) emit("model_registration", { model_name: model, model_source: "sentence-transformers" });
      if (random() < 0.2) {
        emit("UncaughtException", { message: "boom", error_hash: `group-${pick([1, 2, 3])}`, exception_type: "E" });
      }
    }
  }
  return events;
}

/** The distinct installs of the events, by a key (or none where `key` gives none). */
function installsBy(events: readonly StoredEvent[], key: (event: StoredEvent) => string | undefined) {
  const sets = new Map<string, Set<string>>();
  for (const event of events) {
    const k = key(event);
    if (k === undefined) continue;
    sets.set(k, (sets.get(k) ?? new Set()).add(event.hwid));
  }
  return new Map([...sets].map(([k, set]) => [k, set.size]));
}

/** Each day's tally, written to its rollup and read back, as a later report takes it. */
function rolledUpDays(events: readonly StoredEvent[]): DayTally[] {
  return DAYS.map((day) => {
    const tally = new EventTally();
    for (const event of events.filter((e) => e.created_at.startsWith(day))) tally.add(event);
    const rollup = tally.toRollup({ day, updated_at: `${day}T23:00:00.000Z`, complete: true, source: null, parts: [] });
    return { day, tally: EventTally.fromRollup(dayRollupSchema.parse(JSON.parse(JSON.stringify(rollup)))) };
  });
}

function setOf(from: number, to: number): InstallSet {
  const set = new InstallSet();
  for (let i = from; i < to; i += 1) set.add(installHash(`hwid-${i}`));
  return set;
}

describe("installs in a report", () => {
  it.each([
    [300, 1],
    [300, 2],
    [2_000, 3],
  ])(
    "are exact for %i held-out installs (seed %i): days, the period, versions, OSes, events, errors, models",
    (n, seed) => {
      const events = heldOut(n, seed);
      const report = periodReport(rolledUpDays(events), DAYS[0]!, DAYS.at(-1)!);
      const installs = (rows: readonly { installs: number }[], key: (row: never) => string) =>
        new Map(rows.map((row) => [key(row as never), row.installs]));

      expect(report.totals.installs).toBe(new Set(events.map((e) => e.hwid)).size);
      expect(installs(report.days, (d: { day: string }) => d.day)).toEqual(
        installsBy(events, (e) => e.created_at.slice(0, 10)),
      );
      expect(installs(report.versions, (v: { app_version: string }) => v.app_version)).toEqual(
        installsBy(events, (e) => e.app_version),
      );
      expect(installs(report.events, (e: { event_name: string }) => e.event_name)).toEqual(
        installsBy(events, (e) => e.event_name),
      );
      expect(installs(report.errors, (e: { fingerprint: string }) => e.fingerprint)).toEqual(
        installsBy(events, (e) => e.metadata.error_hash as string | undefined),
      );
      expect(installs(report.models, (m: { model_name: string }) => m.model_name)).toEqual(
        installsBy(events, (e) => e.metadata.model_name as string | undefined),
      );
      const osOf = (e: StoredEvent) => (e.event_name === "app_launch" ? normalizeOs(e.metadata.os) : undefined);
      expect(installs(report.os, (o: { os: string }) => o.os)).toEqual(installsBy(events, (e) => osOf(e)?.family));
      expect(
        new Map(report.os.flatMap((o) => o.versions.map((v) => [`${o.os} ${v.version}`, v.installs] as const))),
      ).toEqual(installsBy(events, (e) => osOf(e) && `${osOf(e)!.family} ${osOf(e)!.version}`));
    },
  );

  it("are exact for 9,999 installs, a day's and the union of days", () => {
    const day = (from: number, to: number) => {
      const set = setOf(from, to);
      return InstallSet.decode(set.encode());
    };
    const monday = day(0, 7_000);
    const tuesday = day(3_000, 9_999);
    expect([monday.estimate(), tuesday.estimate()]).toEqual([7_000, 6_999]);
    const week = monday.copy();
    week.merge(tuesday);
    expect(week.estimate()).toBe(9_999);
    expect(week.exact).toBe(true);
    // The days are left as they were.
    expect(monday.estimate()).toBe(7_000);
  });
});

describe("a set of installs", () => {
  it("counts exactly up to 10,000 and within 1% beyond", () => {
    const set = setOf(0, 10_000);
    expect([set.estimate(), set.exact]).toEqual([10_000, true]);
    set.add(installHash("hwid-10000"));
    expect(set.exact).toBe(false);
    expect(Math.abs(set.estimate() / 10_001 - 1)).toBeLessThan(0.01);
    for (const n of [50_000, 200_000]) {
      expect(Math.abs(setOf(0, n).estimate() / n - 1), `${n}`).toBeLessThan(0.01);
    }
  });

  it("merges as a union: of sets past the threshold, and of a set with a sketch, a sketch within 1%", () => {
    const union = setOf(0, 6_000);
    union.merge(setOf(4_000, 12_000));
    expect(union.exact).toBe(false);
    // The hashes a set held feed the sketch as adding them directly would.
    expect(union.encode()).toBe(setOf(0, 12_000).encode());
    const wide = setOf(100, 200);
    wide.merge(setOf(0, 60_000));
    expect(wide.encode()).toBe(setOf(0, 60_000).encode());
    const week = setOf(0, 100_000);
    week.merge(setOf(50_000, 150_000));
    expect(Math.abs(week.estimate() / 150_000 - 1)).toBeLessThan(0.01);
  });

  it.each([0, 1, 300, 9_999, 10_000, 10_001, 50_000, 200_000])(
    "of %i installs reads back from its encoding unchanged, within the size bound",
    (n) => {
      const set = setOf(0, n);
      const text = set.encode();
      expect(text.length).toBeLessThanOrEqual(MAX_ENCODED_CHARS);
      const read = InstallSet.decode(text);
      expect([read.estimate(), read.exact, read.encode()]).toEqual([set.estimate(), set.exact, text]);
      // What was read goes on counting as the original would.
      read.add(installHash("one more"));
      set.add(installHash("one more"));
      expect(read.encode()).toBe(set.encode());
    },
  );

  it("forgets an install while it is exact; a sketch cannot", () => {
    const set = setOf(0, 300);
    expect(set.forgetAll([installHash("hwid-7")])).toBe(1);
    expect(set.forgetAll([installHash("hwid-7")])).toBe(0);
    expect(set.estimate()).toBe(299);
    const without = setOf(0, 7);
    without.merge(setOf(8, 300));
    expect(set.encode()).toBe(without.encode());
    const sketch = setOf(0, 20_000);
    expect(sketch.forgetAll([installHash("hwid-7")])).toBe(0);
    expect(sketch.encode()).toBe(setOf(0, 20_000).encode());
  });

  it("forgets many installs at once, and only those it holds", () => {
    const set = setOf(0, 300);
    const held = [3, 7, 250].map((i) => installHash(`hwid-${i}`));
    expect(set.forgetAll([...held, installHash("hwid-never")])).toBe(3);
    expect(set.forgetAll([installHash("hwid-never")])).toBe(0);
    expect(set.estimate()).toBe(297);
  });

  it("refuses text that is not a set of installs, whatever is wrong with it", () => {
    const good = Buffer.from(setOf(0, 300).encode(), "base64");
    const edited = (edit: (bytes: Buffer) => Buffer) => edit(Buffer.from(good)).toString("base64");
    const refusals = {
      empty: "",
      "an unknown format": Buffer.from([9, 1, 2]).toString("base64"),
      "cut short": edited((b) => b.subarray(0, b.length - 20)),
      "bytes past its end": edited((b) => Buffer.concat([b, Buffer.from([0xff, 0xff])])),
      "another Rice parameter": edited((b) => ((b[1] = b[1]! - 1), b)),
      "more hashes than it holds": edited((b) => (b.writeUInt16BE(301, 2), b)),
      "over 10,000 hashes": edited((b) => (b.writeUInt16BE(10_001, 2), b)),
      "a sketch of the wrong size": Buffer.concat([Buffer.from([1, 16]), deflateRawSync(Buffer.alloc(100))]).toString(
        "base64",
      ),
      "a sketch that inflates past its size": Buffer.concat([
        Buffer.from([1, 16]),
        deflateRawSync(Buffer.alloc(64 * 1024 * 1024)),
      ]).toString("base64"),
    };
    for (const [what, text] of Object.entries(refusals)) expect(() => InstallSet.decode(text), what).toThrow();
  });

  it("is exact, and says so, up to 10,000", () => {
    for (const n of [300, 2_000, 10_000]) expect(setOf(0, n).exact, String(n)).toBe(true);
    expect(setOf(0, 10_001).exact).toBe(false);
  });
});

/** A sketch at `precision` of the installs `hwid-from` to `hwid-to` (exclusive), and `extra` hashes. */
function sketchOf(precision: number, from: number, to: number, extra: readonly number[] = []): HyperLogLog {
  const sketch = new HyperLogLog(precision);
  for (let i = from; i < to; i += 1) sketch.add(installHash(`hwid-${i}`));
  extra.forEach((hash) => sketch.add(hash));
  return sketch;
}

const hwids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `hwid-${from + i}`);

describe("a sketch of an older rollup's precision", () => {
  // Hashes whose bits after the index are all zero (the longest run), at indexes whose dropped bits are zero or not.
  const edges = [0, 2 ** 32, 2 ** 37, 2 ** 47, 3 * 2 ** 32 + 1, 2 ** 48 - 2 ** 32];

  it.each([
    [16, 14],
    [16, 11],
    [14, 11],
  ])(
    "folded from 2^%i to 2^%i registers is the sketch the same hashes give there, register for register",
    (p, lower) => {
      for (const n of [10, 3_000, 200_000]) {
        const folded = sketchOf(p, 0, n, edges).folded(lower);
        expect(folded.encode().equals(sketchOf(lower, 0, n, edges).encode()), `${n} installs`).toBe(true);
      }
    },
  );

  it.each([
    [14, 100],
    [14, 50_000],
    [11, 30],
    [11, 5_000],
  ])("at 2^%i registers, of %i installs, reads as this release's sketch of them (sparse or dense)", (p, n) => {
    const set = InstallSet.decode(legacySketch(hwids(0, n), p), { legacy: true });
    expect(set.exact).toBe(false);
    expect(set.encode()).toBe(sketchOf(p, 0, n).encode().toString("base64"));
    // Its encoding says its precision: it reads back the same.
    expect(InstallSet.decode(set.encode()).encode()).toBe(set.encode());
  });

  it.each([
    [14, 0.008],
    [11, 0.023],
  ])(
    "at 2^%i registers, merged with exact sets and sketches, estimates the union within 3 standard errors (%f)",
    (p, error) => {
      const legacy = () => InstallSet.decode(legacySketch(hwids(0, 30_000), p), { legacy: true });
      // Either side of the union first: the result is a sketch at the lower precision.
      const unions = [legacy(), setOf(20_000, 25_000), setOf(25_000, 60_000)];
      unions[0]!.merge(setOf(20_000, 25_000));
      unions[0]!.merge(setOf(25_000, 60_000));
      unions[1]!.merge(legacy());
      unions[1]!.merge(setOf(25_000, 60_000));
      unions[2]!.merge(setOf(20_000, 25_000));
      unions[2]!.merge(legacy());
      const direct = sketchOf(p, 0, 60_000).encode().toString("base64");
      for (const union of unions) {
        expect([union.exact, union.encode()]).toEqual([false, direct]);
        expect(Math.abs(union.estimate() / 60_000 - 1)).toBeLessThan(3 * error);
      }
    },
  );

  it("refuses a format-2 sketch of another precision or with an index out of range", () => {
    expect(() => InstallSet.decode(legacySketch(["a"], 12), { legacy: true })).toThrow();
    const outOfRange = Buffer.from([0, 11, 0x08, 0x00, 1]).toString("base64");
    expect(() => InstallSet.decode(outOfRange, { legacy: true })).toThrow();
  });
});
