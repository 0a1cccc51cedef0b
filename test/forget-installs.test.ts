import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { rollUpDay } from "../lib/insights/roll-up-day.ts";
import { daySources } from "../lib/storage/layout/day-sources.ts";
import { LocalFiles } from "../lib/storage/local/local-files.ts";
import { dayRollupSchema, type DayRollup } from "../lib/tally/day-rollup.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { keyedInstall } from "../lib/tally/figures/figure.ts";
import { forgetInstalls } from "../lib/tally/forget-installs.ts";
import { installHash } from "../lib/tally/install-set.ts";
import { dataFolder, dayFiles } from "./support/data-folder.ts";

const DAY = "2026-11-20";
const KEY = "the operator's install key";
const clock = {
  now: () => Date.parse("2026-12-01T00:00:00Z"),
  sleep: async () => {},
  timeout: () => new AbortController().signal,
};

let n = 0;
function event(hwid: string, hour: number, event_name: string, metadata: Record<string, unknown>): StoredEvent {
  n += 1;
  return {
    event_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    created_at: `${DAY}T${String(hour).padStart(2, "0")}:00:00.000Z`,
    ip: null,
    hwid,
    event_name,
    app_version: "1.0.0",
    client_type: "vector-inspector",
    metadata: { os: "Linux-6.1", ...metadata },
  };
}

const crash = (hwid: string, hour: number, message: string) =>
  event(hwid, hour, "UncaughtException", { exception_type: "ValueError", error_hash: "e1", message });
const model = (hwid: string, hour: number, model_name: string) =>
  event(hwid, hour, "model_registration", { model_name, model_source: "local" });

/** The erased install reports the error first and alone registers a model named after its owner. */
const EVENTS = [
  crash("install-erased", 1, "cannot open falcon-vectors.db"),
  crash("install-b", 2, "cannot open /srv/b.db"),
  crash("install-c", 3, "cannot open /srv/c.db"),
  crash("install-d", 4, "cannot open /srv/d.db"),
  model("install-erased", 1, "alice-private-finetune"),
  model("install-erased", 1, "all-MiniLM-L6-v2"),
  model("install-b", 2, "all-MiniLM-L6-v2"),
];

/** The day's rollup, as the hourly job writes it from the day's files (parts split so the samples are merged). */
async function rolledUp(events: readonly StoredEvent[]): Promise<DayRollup> {
  const dir = await dataFolder(dayFiles(events, { parts: 3 }));
  try {
    const files = new LocalFiles(dir);
    const source = daySources("2026-11", await files.list("telemetry/2026/11", { deadline: Infinity })).get(DAY)!;
    const read = await rollUpDay(files, source, undefined, { deadline: Infinity, clock, installKey: KEY });
    return dayRollupSchema.parse(JSON.parse(JSON.stringify(read.rollup)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("forgetting installs in a rollup (an erasure)", () => {
  it("replaces their error samples by the next install's and drops the model names only they registered", async () => {
    const rollup = await rolledUp(EVENTS);
    expect(EventTally.fromRollup(rollup).errorFigures()[0]!.message).toContain("falcon");
    expect(rollup.errors[0]!.samples).toHaveLength(3);
    expect(JSON.stringify(rollup)).not.toContain("install-erased");

    const erased = new Set([keyedInstall(KEY, "install-erased")]);
    const { rollup: forgotten, forgotten: count } = forgetInstalls(rollup, erased, new Set());
    expect(count).toBe(3);
    const text = JSON.stringify(forgotten);
    expect(text).not.toContain("alice");
    expect(text).not.toContain("falcon");
    expect(text).not.toContain(keyedInstall(KEY, "install-erased"));
    const tally = EventTally.fromRollup(dayRollupSchema.parse(forgotten));
    expect(tally.errorFigures()[0]).toMatchObject({ message: "cannot open /srv/b.db", received: 4 });
    expect(tally.modelFigures().map((m) => m.model_name)).toEqual(["all-MiniLM-L6-v2"]);
    expect(tally.modelFigures()[0]).toMatchObject({ registrations: 2 });

    // What is left is what a rebuild from the rewritten files keeps by name (which also finds a fourth install's sample).
    const rebuilt = await rolledUp(EVENTS.filter((e) => e.hwid !== "install-erased"));
    expect(forgotten.errors[0]!.samples).toEqual(rebuilt.errors[0]!.samples.slice(0, 2));
    expect(forgotten.models.map((m) => [m.model_name, m.named_by])).toEqual(
      rebuilt.models.map((m) => [m.model_name, m.named_by]),
    );
    expect(forgetInstalls(forgotten, erased, new Set())).toEqual({ rollup: forgotten, forgotten: 0 });
  });

  it("takes their hashes out of every exact set of installs, as a rebuild from the rewritten files would count them", async () => {
    const rollup = await rolledUp(EVENTS);
    const { rollup: forgotten, forgotten: count } = forgetInstalls(
      rollup,
      new Set([keyedInstall(KEY, "install-erased")]),
      new Set([installHash("install-erased")]),
    );
    const rebuilt = await rolledUp(EVENTS.filter((e) => e.hwid !== "install-erased"));
    const installsOf = (r: DayRollup) => ({
      day: r.installs,
      events: new Map(r.events.map((e) => [e.event_name, e.installs])),
      versions: new Map(r.versions.map((v) => [v.app_version, v.installs])),
      os: new Map(r.os.map((o) => [o.family, o.installs])),
      errors: new Map(r.errors.map((e) => [e.fingerprint, e.installs])),
      models: new Map(r.models.map((m) => [m.model_name, m.installs])),
      countries: new Map(r.countries.map((c) => [c.country, c.installs])),
    });
    expect(installsOf(forgotten)).toEqual(installsOf(rebuilt));
    expect(EventTally.fromRollup(forgotten).installs.estimate()).toBe(3);
    // Three samples and model names, and the day's, an event's, a version's, an OS's, the error group's, a model's and a country's sets.
    expect(count).toBe(3 + 1 + 2 + 1 + 1 + 1 + 1 + 1);
    const again = forgetInstalls(forgotten, new Set(), new Set([installHash("install-erased")]));
    expect(again).toEqual({ rollup: forgotten, forgotten: 0 });
  });

  it("keeps no sample at all once every install that reported it is forgotten", async () => {
    const rollup = await rolledUp(EVENTS.slice(0, 1));
    const { rollup: forgotten } = forgetInstalls(rollup, new Set([keyedInstall(KEY, "install-erased")]), new Set());
    expect(forgotten.errors[0]!.samples).toEqual([]);
    expect(EventTally.fromRollup(forgotten).errorFigures()[0]).toMatchObject({ message: "", traceback: null });
  });
});
