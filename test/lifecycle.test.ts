import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { loadConfig } from "../lib/config.ts";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { pseudonymizeHwid } from "../lib/events/pseudonymize-hwid.ts";
import { dataFolder, dayFiles } from "./support/data-folder.ts";
import { describe, expect, test } from "./support/fixtures.ts";
import { runCli } from "./support/run-cli.ts";

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

describe("retention (TELEMETRY_RETENTION_DAYS)", () => {
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
    const commits = github.commits.length;
    const report = await runtime.retain(25_000);
    expect(report).toMatchObject({ outcome: "removed", keep_from: days.ago(29), pending: false, error: null });
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
    for (const [path, content] of kept) expect(github.file(path)).toBe(content);
    // Within the flusher's pace: its write log holds the commit's three requests.
    expect((await runtime.spool!.lease.read()).writes).toHaveLength(3);

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

  it("shows what would go with telemetry retention --dry-run, and removes nothing", async ({ DAYS, days }) => {
    const dir = await dataFolder(dayFiles(eventsOf(DAYS.slice(60)), { parts: 2 }));
    try {
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
      expect(stderr).toMatch(/^telemetry: 10 event\(s\) of 1 install\(s\) from 13 file\(s\) written to /);

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
