import { describe, expect, it } from "vitest";
import { checkShape, SHAPE_LIMITS } from "../lib/events/check-shape.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };

/** `levels` objects inside one another, counting the outer one: `{"a":{"a":…{}}}`. */
const nested = (levels: number): unknown => JSON.parse(`${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`);

describe("metadata within the limits", () => {
  it("passes the metadata of every seed example", () => {
    for (const seed of Object.values(seeds)) {
      if (typeof seed === "object" && "metadata" in seed) expect(checkShape(seed.metadata)).toEqual([]);
    }
    expect(checkShape(seeds.model_metadata_export_file)).toEqual([]);
  });

  it("passes values exactly at each limit", () => {
    const atLimits = {
      deep: nested(SHAPE_LIMITS.maxDepth - 1),
      ["k".repeat(SHAPE_LIMITS.maxKeyLength)]: "s".repeat(SHAPE_LIMITS.maxStringLength),
      // The three keys here and the six inside `deep` are entries too.
      items: Array.from({ length: SHAPE_LIMITS.maxEntries - 3 - 6 }, () => 0),
    };
    expect(checkShape(atLimits)).toEqual([]);
  });

  it("counts characters as Python's len() does, so emoji count once", () => {
    expect(checkShape({ note: "😀".repeat(SHAPE_LIMITS.maxStringLength) })).toEqual([]);
    expect(checkShape({ note: "😀".repeat(SHAPE_LIMITS.maxStringLength + 1) })).toEqual([
      { path: ["note"], message: "string is 16385 characters; the limit is 16384" },
    ]);
  });
});

describe("metadata past the limits", () => {
  it("reports nesting deeper than 8 levels once, at the first path that goes too deep", () => {
    expect(checkShape(nested(8))).toEqual([]);
    const issues = checkShape({ first: nested(8), second: nested(8) });
    expect(issues).toEqual([
      {
        path: ["first", "a", "a", "a", "a", "a", "a", "a"],
        message:
          "objects and arrays are nested more than 8 levels deep (metadata itself is the first level); the limit is 8",
      },
    ]);
  });

  it("survives nesting 100,000 levels deep", () => {
    const depth = 100_000;
    const value = JSON.parse(`{"trace":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    const issues = checkShape(value);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toEqual(["trace", 0, 0, 0, 0, 0, 0, 0]);
  });

  it("reports more than 1000 entries once, counting keys and array items together", () => {
    const keys = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, i]));
    expect(checkShape({ ...keys, list: Array.from({ length: 399 }, () => 1) })).toEqual([]);
    expect(checkShape({ ...keys, list: Array.from({ length: 400 }, () => 1) })).toEqual([
      {
        path: [],
        message: "more than 1000 entries (object keys and array items, counted together); the limit is 1000",
      },
    ]);
    expect(checkShape({ list: new Array(1_000_000).fill(0) })).toHaveLength(1);
  });

  it("reports over-long keys and strings with the limit, quoting only the start of a key", () => {
    const longKey = "k".repeat(200);
    expect(checkShape({ error: { [longKey]: 1, message: "m".repeat(20_000) } })).toEqual([
      { path: ["error"], message: `key "${"k".repeat(32)}…" is 200 characters; the limit is 128` },
      { path: ["error", "message"], message: "string is 20000 characters; the limit is 16384" },
    ]);
  });

  it.each(["__proto__", "constructor", "prototype"])("refuses the key %s anywhere", (key) => {
    const value = JSON.parse(`{"ok":1,"nested":[{"${key}":{"polluted":true}}]}`);
    expect(checkShape(value)).toEqual([{ path: ["nested", 0, key], message: `key ${key} is not allowed` }]);
  });

  it("reports at most 20 issues", () => {
    const value = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`s${i}`, "x".repeat(SHAPE_LIMITS.maxStringLength + 1)]),
    );
    const issues = checkShape(value);
    expect(issues).toHaveLength(20);
    expect(issues[19]!.path).toEqual(["s19"]);
  });

  it("applies the limits it is given", () => {
    const limits = { maxDepth: 2, maxEntries: 4, maxKeyLength: 4, maxStringLength: 5 };
    expect(checkShape({ a: [1], bb: "12345" }, limits)).toEqual([]);
    expect(checkShape({ a: [[1]], bb: "123456", ccccc: 0 }, limits).map((issue) => issue.message)).toEqual([
      "objects and arrays are nested more than 2 levels deep (metadata itself is the first level); the limit is 2",
      "string is 6 characters; the limit is 5",
      'key "ccccc" is 5 characters; the limit is 4',
    ]);
  });
});
