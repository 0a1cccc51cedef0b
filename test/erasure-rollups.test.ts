import type { StoredEvent } from "../lib/events/stored-event.ts";
import { dayRollupSchema } from "../lib/tally/day-rollup.ts";
import { dayFiles } from "./support/data-folder.ts";
import { asFormatTwo } from "./support/legacy-rollup.ts";
import type { FakeGitHub } from "./support/fake-github/index.ts";
import { describe, expect, test } from "./support/fixtures.ts";

const ERASED = "install-erased";
/** What only the erased install's events said: its error's message and a model it alone registered. */
const ITS_MESSAGE = "falcon-vectors";
const ITS_MODEL = "alice-private-finetune";
const OTHERS_MESSAGE = "beta-vectors";

let sequence = 0;
function eventOf(day: string, hwid: string, hour: number, event_name: string, metadata: Record<string, unknown>) {
  sequence += 1;
  const event: StoredEvent = {
    event_id: `00000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    created_at: `${day}T${String(hour).padStart(2, "0")}:00:00.000Z`,
    ip: null,
    hwid,
    event_name,
    app_version: "1.0.0",
    client_type: "vector-inspector",
    metadata: { os: "Linux-6.1", ...metadata },
  };
  return event;
}

/** Each day, the erased install reports an error first and alone registers a model; another install reports the same error later. */
function dayOf(day: string): StoredEvent[] {
  const crash = (hwid: string, hour: number, name: string) =>
    eventOf(day, hwid, hour, "UncaughtException", {
      exception_type: "ValueError",
      error_hash: "e1",
      message: `cannot open ${name}`,
    });
  return [
    crash(ERASED, 1, ITS_MESSAGE),
    crash("install-b", 2, OTHERS_MESSAGE),
    eventOf(day, ERASED, 1, "model_registration", { model_name: ITS_MODEL, model_source: "local" }),
    eventOf(day, "install-b", 2, "model_registration", { model_name: "all-MiniLM-L6-v2", model_source: "local" }),
  ];
}

/** Every file at the branch's head that is not a raw day file: the rollups, their index, the dashboard. */
function derivedFiles(github: FakeGitHub): Map<string, string> {
  return new Map(
    github
      .paths()
      .filter((path) => !path.endsWith(".ndjson"))
      .map((path) => [path, github.file(path)!]),
  );
}

const it = test
  .extend("served", async ({ serveGitHub, days }) => {
    const served = await serveGitHub();
    served.fake.seedAll(dayFiles(days.last(5).flatMap(dayOf), { parts: 2 }));
    return served;
  })
  .extend("github", ({ served }) => served.fake);

describe("erasure and what the hourly job kept of an install", () => {
  it("forgets the install's samples and model names in every rollup and in the dashboard, days past retention included", async ({
    served,
    github,
    runtimeOf,
    days,
  }) => {
    const runtime = runtimeOf({ ...served.env, TELEMETRY_RETENTION_DAYS: "3" });
    expect(await runtime.publish(60_000)).toMatchObject({ outcome: "published", pending: 0 });
    // Retention removes the two oldest days' raw files; their rollups, and what they kept, stay.
    expect(await runtime.retain(60_000)).toMatchObject({ error: null });
    expect(github.paths().some((path) => path.includes(days.ago(4).replaceAll("-", "/")))).toBe(false);
    const before = derivedFiles(github);
    expect([...before.values()].some((content) => content.includes(ITS_MESSAGE))).toBe(true);
    expect([...before.values()].some((content) => content.includes(ITS_MODEL))).toBe(true);
    expect(before.get("rollups/index.json")).toBeDefined();

    await runtime.erasure!.requests.submit([ERASED]);
    expect(await runtime.erasure!.run(60_000)).toMatchObject({ outcome: "erased", error: null });

    const after = derivedFiles(github);
    for (const [path, content] of after) {
      expect(content, path).not.toContain(ITS_MESSAGE);
      expect(content, path).not.toContain(ITS_MODEL);
    }
    // Every day's rollup keeps the other install's sample, and the dashboard shows it in the erased one's place.
    for (const day of days.last(5)) {
      const rollup = after.get(`rollups/${day.slice(0, 4)}/${day}.json`);
      expect(rollup, day).toContain(OTHERS_MESSAGE);
      expect(dayRollupSchema.safeParse(JSON.parse(rollup!)).success, day).toBe(true);
    }
    expect(after.get("dashboard/README.md")).toContain(OTHERS_MESSAGE);
    expect(after.get("dashboard/README.md")).toContain("all-MiniLM-L6-v2");

    // The next hourly run rebuilds the days whose files the erasure rewrote, and finds nothing of the install either.
    expect(await runtime.publish(60_000)).toMatchObject({ error: null });
    const rebuilt = derivedFiles(github);
    for (const [path, content] of rebuilt) expect(content, path).not.toContain(ITS_MESSAGE);
    expect(rebuilt.get("dashboard/README.md")).toContain(OTHERS_MESSAGE);
  });

  it("forgets them in a rollup of format 2 whose day's files are gone, written back as format 3", async ({
    served,
    github,
    runtimeOf,
    days,
  }) => {
    const runtime = runtimeOf({ ...served.env, TELEMETRY_RETENTION_DAYS: "3" });
    expect(await runtime.publish(60_000)).toMatchObject({ outcome: "published", pending: 0 });
    expect(await runtime.retain(60_000)).toMatchObject({ error: null });
    // As an older release wrote them: the days past retention's rollups of format 2.
    const gone = [days.ago(4), days.ago(3)].map((day) => `rollups/${day.slice(0, 4)}/${day}.json`);
    for (const path of gone) {
      github.seed(path, asFormatTwo(JSON.parse(github.file(path)!) as object, new Set([ERASED, "install-b"])));
    }

    await runtime.erasure!.requests.submit([ERASED]);
    expect(await runtime.erasure!.run(60_000)).toMatchObject({ outcome: "erased", error: null });
    for (const path of gone) {
      const rollup = github.file(path)!;
      expect(rollup, path).not.toContain(ITS_MESSAGE);
      expect(rollup, path).not.toContain(ITS_MODEL);
      expect(rollup, path).toContain(OTHERS_MESSAGE);
      expect(dayRollupSchema.parse(JSON.parse(rollup))).toMatchObject({ version: 3 });
    }
    expect(github.file("dashboard/README.md")).not.toContain(ITS_MESSAGE);
    expect(github.file("dashboard/README.md")).toContain(OTHERS_MESSAGE);
  });

  it("removes no file of a day whose rollup is of format 2 until the hourly job rebuilt it from them", async ({
    served,
    github,
    runtimeOf,
    days,
  }) => {
    const runtime = runtimeOf({ ...served.env, TELEMETRY_RETENTION_DAYS: "3" });
    expect(await runtime.publish(60_000)).toMatchObject({ outcome: "published", pending: 0 });
    // As an older release left them: the index and the expiring days' rollups of format 2.
    const expiring = [days.ago(4), days.ago(3)];
    for (const day of expiring) {
      const path = `rollups/${day.slice(0, 4)}/${day}.json`;
      github.seed(path, asFormatTwo(JSON.parse(github.file(path)!) as object, new Set([ERASED, "install-b"])));
    }
    github.seed("rollups/index.json", JSON.stringify({ version: 2, months: {}, days: {} }));

    expect(await runtime.retain(60_000)).toMatchObject({ error: null, days: [], waiting: expiring });
    expect(await runtime.publish(60_000)).toMatchObject({ outcome: "published", pending: 0 });
    const removed = await runtime.retain(60_000);
    expect(removed?.days.map((d) => d.day)).toEqual(expiring);
  });

  it("forgets them too after the jobs' key changed (a renewed GitHub token): the rollups' key is kept apart", async ({
    served,
    github,
    runtimeOf,
  }) => {
    const env = { ...served.env, TELEMETRY_RETENTION_DAYS: "3" };
    const before = runtimeOf(env);
    expect(await before.publish(60_000)).toMatchObject({ outcome: "published", pending: 0 });
    expect(await before.retain(60_000)).toMatchObject({ error: null });
    // The same site once its token was renewed: the jobs' key, derived from it, is another.
    const after = runtimeOf(env, { adjust: (config) => ({ ...config, flushKey: "derived-from-the-renewed-token" }) });
    await after.erasure!.requests.submit([ERASED]);
    expect(await after.erasure!.run(60_000)).toMatchObject({ outcome: "erased", error: null });
    expect(await after.publish(60_000)).toMatchObject({ error: null });
    for (const [path, content] of derivedFiles(github)) expect(content, path).not.toContain(ITS_MESSAGE);
  });
});
