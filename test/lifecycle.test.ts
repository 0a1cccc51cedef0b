import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { loadConfig } from "../lib/config.ts";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { pseudonymizeHwid } from "../lib/events/pseudonymize-hwid.ts";
import { dataFolder, dayFiles } from "./support/data-folder.ts";
import { describe, expect, test } from "./support/fixtures.ts";
import { runCli } from "./support/run-cli.ts";
import { PUBLISH_SCHEDULED_BUDGET_MS, type PublishReport } from "../lib/insights/publish-insights.ts";
import { RETENTION_CALLED_BUDGET_MS, type RetentionReport } from "../lib/lifecycle/apply-retention.ts";
import { jobEndpoints } from "../lib/http/endpoints/job-endpoints.ts";
import type { Runtime } from "../lib/runtime.ts";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** 100 days of events, today's included (`DAYS`): three installs a day. */
const it = test.extend("DAYS", { scope: "file" }, ({ days }) => days.last(100));

function eventsOf(days: readonly string[], installs = ["install-a", "install-b", "install-c"]): StoredEvent[] {
  let n = 0;
  return days.flatMap((day) =>
    installs.flatMap((hwid) =>
      [0, 1].map((i): StoredEvent => {
        n += 1;
        return {
          event_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
          created_at: `${day}T0${i}:00:00.000Z`,
          ip: null,
          hwid,
          event_name: i === 0 ? "app_launch" : "session.start",
          app_version: "1.0.0",
          client_type: "vector-inspector",
          metadata: { os: "Linux-6.1", n },
        };
      }),
    ),
  );
}

/** Every key of `value`, at any depth, that is not snake_case. */
function camelCaseKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(camelCaseKeys);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(/[A-Z]/.test(key) ? [key] : []),
    ...camelCaseKeys(inner),
  ]);
}

/** The hourly job, run until every day is rolled up: retention waits for it. */
async function rollUpEverything(runtime: { publish(budgetMs: number): Promise<PublishReport> }): Promise<void> {
  for (let run = 0; run < 20; run += 1) {
    const report = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    // A run that ran out of time (a loaded machine) is followed by another, as the schedule would.
    if ((report.outcome === "published" && report.pending === 0) || report.outcome === "unchanged") return;
  }
  throw new Error("the hourly job never caught up");
}

describe("retention (TELEMETRY_RETENTION_DAYS)", () => {
  it("removes a day only once its rollup covers its files, and every such day in one called run", async ({
    DAYS,
    days,
    serveGitGitHub,
    runtimeOf,
  }) => {
    const { stand, env } = await serveGitGitHub();
    const stored = DAYS.slice(60);
    const raw = dayFiles(eventsOf(stored), { parts: 2 });
    stand.seed(raw, "40 days");
    const runtime = runtimeOf({ ...env, TELEMETRY_RETENTION_DAYS: "30" });
    const expired = stored.slice(0, 10);

    const early = await runtime.retain(RETENTION_CALLED_BUDGET_MS);
    expect(early).toMatchObject({ outcome: "nothing", days: [], waiting: expired, pending: 0 });

    await rollUpEverything(runtime);
    // A late line in one expired day after its rollup was written: that day waits for the next rollup.
    const late = [...raw.keys()].find((path) => path.includes(expired[3]!.replaceAll("-", "/")))!;
    stand.seed([[late, `${raw.get(late)!}${JSON.stringify(eventsOf([expired[3]!], ["install-late"])[0])}\n`]]);
    const report = await runtime.retain(RETENTION_CALLED_BUDGET_MS);
    expect(report).toMatchObject({ outcome: "removed", waiting: [expired[3]], pending: 0, error: null });
    expect(report!.days.map((d) => d.day)).toEqual(expired.filter((day) => day !== expired[3]));
    expect(report!.days.flatMap((d) => d.files)).toHaveLength(18);

    await rollUpEverything(runtime);
    const last = await runtime.retain(RETENTION_CALLED_BUDGET_MS);
    expect(last).toMatchObject({ outcome: "removed", waiting: [], pending: 0 });
    expect(last!.days.map((d) => d.day)).toEqual([expired[3]]);
    expect(days.ago(29)).toBe(stored[10]);
  });

  it("removes the raw files of the days past the period in one commit; the rollups and the dashboard stay", async ({
    DAYS,
    days,
    serveGitHub,
    runtimeOf,
  }) => {
    const { fake: github, env } = await serveGitHub();
    const raw = dayFiles(eventsOf(DAYS), { parts: 2, oldLayout: [DAYS[0]!] });
    const kept: [string, string][] = [
      ["rollups/2026/2026-01-01.json", "{}\n"],
      ["dashboard/README.md", "# Telemetry dashboard\n"],
    ];
    github.seedAll([...raw, ...kept]);
    const runtime = runtimeOf({ ...env, TELEMETRY_RETENTION_DAYS: "30" });
    await rollUpEverything(runtime);
    const keptNow = kept.map(([path]) => [path, github.file(path)] as const);
    const commits = github.commits.length;
    const writes = (await runtime.spool!.lease.read()).writes.length;
    const report = await runtime.retain(25_000);
    expect(report).toMatchObject({
      outcome: "removed",
      keep_from: days.ago(29),
      waiting: [],
      pending: 0,
      error: null,
    });
    // The report is answered as JSON by the retention functions: snake_case, as every answer.
    expect(camelCaseKeys(report)).toEqual([]);
    expect(report!.days.map((d) => d.day)).toEqual(DAYS.slice(0, 70));
    expect(github.commits.length).toBe(commits + 1);
    const left = new Set(github.paths());
    const rawLeft = [...raw.keys()].filter((path) => left.has(path));
    expect(rawLeft).toEqual(
      [...raw.keys()].filter((path) => DAYS.slice(70).some((day) => path.includes(day.replaceAll("-", "/")))),
    );
    expect(new Set(rawLeft.map((path) => path.split("/").slice(1, 4).join("-")))).toEqual(new Set(DAYS.slice(70)));
    for (const [path, content] of keptNow) expect(github.file(path)).toBe(content);
    // Within the flusher's pace: its write log holds the commit's three requests.
    expect((await runtime.spool!.lease.read()).writes).toHaveLength(writes + 3);

    const again = await runtime.retain(25_000);
    expect(again).toMatchObject({ outcome: "nothing", days: [] });
    expect(github.commits.length).toBe(commits + 1);
  });

  it("with TELEMETRY_HISTORY=squash, replaces the history by one commit of what is kept", async ({
    DAYS,
    serveGitHub,
    runtimeOf,
  }) => {
    const { fake: github, url, env } = await serveGitHub();
    github.seedAll(dayFiles(eventsOf(DAYS.slice(50)), { parts: 2 }));
    const runtime = runtimeOf({ ...env, TELEMETRY_RETENTION_DAYS: "30", TELEMETRY_HISTORY: "squash" });
    await rollUpEverything(runtime);
    const report = await runtime.retain(25_000);
    expect(report).toMatchObject({ outcome: "removed", squashed: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const root = await (
      await fetch(`${url}/repos/acme/data/git/commits/${report!.squashed}`, {
        headers: { authorization: `token ${env.GITHUB_TOKEN}` },
      })
    ).json();
    expect(root.parents).toEqual([]);
    expect(github.paths().filter((path) => path.endsWith(".ndjson"))).toHaveLength(60);
  });

  it("is off unless TELEMETRY_RETENTION_DAYS is set, and refuses a period that is not a whole number of days", async ({
    runtimeOf,
  }) => {
    const runtime = runtimeOf({ TELEMETRY_LOCAL_DIR: "/tmp/unused" });
    await expect(runtime.retain(1000)).resolves.toBeUndefined();
    expect(() => loadConfig({ TELEMETRY_RETENTION_DAYS: "0" })).toThrow(/TELEMETRY_RETENTION_DAYS/);
    expect(() => loadConfig({ TELEMETRY_RETENTION_DAYS: "thirty" })).toThrow(/TELEMETRY_RETENTION_DAYS/);
  });

  it("shows what would go with telemetry retention --dry-run, and removes nothing", async ({
    DAYS,
    days,
    runtimeOf,
  }) => {
    const dir = await dataFolder(dayFiles(eventsOf(DAYS.slice(60)), { parts: 2 }));
    try {
      await rollUpEverything(runtimeOf({ TELEMETRY_LOCAL_DIR: dir }));
      const { code, stdout, stderr } = await runCli(["retention", "--dry-run", "--days", "30", "--data", dir]);
      expect(code, stderr).toBe(0);
      expect(
        stdout
          .trim()
          .split("\n")
          .map((line) => line.split(" ")[0]),
      ).toEqual(DAYS.slice(60, 70));
      expect(stderr).toBe(`telemetry: would remove 20 file(s) of 10 day(s) before ${days.ago(29)}; rollups stay\n`);
      await readFile(join(dir, "telemetry", ...DAYS[60]!.split("-"), "0001.ndjson"));
      expect((await runCli(["retention", "--dry-run", "--days", "0", "--data", dir])).code).toBe(2);
      const unset = await runCli(["retention", "--dry-run", "--data", dir]);
      expect(unset).toMatchObject({ code: 2, stderr: expect.stringContaining("--days") });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("telemetry export (an access request)", () => {
  it("writes every stored line of one install, byte for byte and in order, from every day and part", async ({
    DAYS,
  }) => {
    const events = eventsOf(DAYS.slice(95));
    const files = dayFiles(events, { parts: 3, oldLayout: [DAYS[95]!] });
    const dir = await dataFolder(files);
    const out = join(dir, "export.ndjson");
    try {
      const { code, stderr } = await runCli(["export", "--hwid", "install-b", "--data", dir, "--out", out]);
      expect(code, stderr).toBe(0);
      const expected = [...files.values()]
        .flatMap((text) => text.split("\n").filter((line) => line.includes('"hwid":"install-b"')))
        .map((line) => `${line}\n`)
        .join("");
      expect(await readFile(out, "utf8")).toBe(expected);
      expect(expected.split("\n").filter(Boolean)).toHaveLength(10);
      expect(stderr).toMatch(
        /^telemetry: 10 event\(s\) of the 1 install\(s\) asked for, from 13 file\(s\) written to /,
      );

      const missing = await runCli(["export", "--data", dir]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("--hwid");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("hashes the id it is given when the service stores hashes (TELEMETRY_HWID_MODE=hash)", async ({ days }) => {
    const salt = "export-salt-0123456789";
    const hashed = eventsOf([days.today], ["install-a", "install-b"]).map((e) => ({
      ...e,
      hwid: pseudonymizeHwid(e.hwid, "hash", salt),
    }));
    const dir = await dataFolder(dayFiles(hashed));
    try {
      const env = { TELEMETRY_HWID_MODE: "hash", TELEMETRY_HWID_SALT: salt };
      const { code, stdout } = await runCli(["export", "--hwid", "install-a", "--data", dir], env);
      expect(code).toBe(0);
      const lines = stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as StoredEvent);
      expect(lines).toHaveLength(2);
      expect(lines.every((line) => line.hwid === pseudonymizeHwid("install-a", "hash", salt))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("telemetry erase --dry-run", () => {
  it("lists the files and lines an erasure would remove, and removes nothing", async ({ DAYS }) => {
    const files = dayFiles(eventsOf(DAYS.slice(97)), { parts: 3 });
    const dir = await dataFolder(files);
    try {
      const { code, stdout, stderr } = await runCli(["erase", "--dry-run", "--hwid", "install-c", "--data", dir]);
      expect(code, stderr).toBe(0);
      const listed = stdout
        .trim()
        .split("\n")
        .map((line) => line.split("  "));
      const expected = [...files].flatMap(([path, text]) => {
        const n = text.split("\n").filter((line) => line.includes('"hwid":"install-c"')).length;
        return n > 0 ? [[path, `${n} line(s)`]] : [];
      });
      expect(listed).toEqual(expected);
      expect(stderr).toMatch(/^telemetry: would remove 6 line\(s\) from \d+ file\(s\), in one commit/);
      for (const [path, text] of files) expect(await readFile(join(dir, path), "utf8")).toBe(text);
      expect((await runCli(["erase", "--dry-run", "--data", dir])).code).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The site as `telemetry retention --url` meets it: its retention function over `runtime`, on loopback. */
async function serveSite(runtime: Runtime): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const url = `http://127.0.0.1${request.url ?? "/"}`;
    const headers = new Headers(
      Object.entries(request.headers).flatMap(([k, v]) => (typeof v === "string" ? [[k, v] as [string, string]] : [])),
    );
    void jobEndpoints.retention
      .called(new Request(url, { method: request.method ?? "GET", headers }), {
        runtime,
        invocation: { waitUntil: () => {} },
      })
      .then(async (answer) => {
        response.writeHead(answer.status, Object.fromEntries(answer.headers));
        response.end(Buffer.from(await answer.arrayBuffer()));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("telemetry retention (the site's job, now)", () => {
  it("calls the site until every expired day is gone, a line a call, and says what waits", async ({
    DAYS,
    days,
    serveGitHub,
    runtimeOf,
  }) => {
    const { fake: github, env } = await serveGitHub();
    const stored = DAYS.slice(60);
    github.seedAll(dayFiles(eventsOf(stored), { parts: 2 }));
    const runtime = runtimeOf({ ...env, TELEMETRY_RETENTION_DAYS: "30" });
    await rollUpEverything(runtime);
    const late = `telemetry/${stored[2]!.replaceAll("-", "/")}/0003.ndjson`;
    github.seed(late, `${JSON.stringify(eventsOf([stored[2]!], ["install-late"])[0])}\n`);
    const site = await serveSite(runtime);
    try {
      const { code, stdout, stderr } = await runCli(["retention", "--json", "--url", site.url], env);
      expect(code, stderr).toBe(0);
      const runs = stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as RetentionReport);
      expect(runs.flatMap((run) => run.days.map((d) => d.day))).toEqual(stored.slice(0, 10).filter((_, i) => i !== 2));
      const lines = stderr.trim().split("\n");
      expect(lines.slice(0, -1)).toHaveLength(runs.length);
      expect(lines.at(-1)).toBe(
        `telemetry: removed 18 file(s) of 9 day(s) before ${days.ago(29)}; 1 day(s) wait for their rollups (${stored[2]}): a later run removes them`,
      );
      const left = github.paths().filter((path) => path.endsWith(".ndjson"));
      expect(left).toHaveLength(30 * 2 + 3);
    } finally {
      await site.close();
    }
  });
});
