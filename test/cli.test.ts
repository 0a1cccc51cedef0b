import { readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { periodReportSchema } from "../lib/present/period-report.ts";
import { dataFolder, dayFiles } from "./support/data-folder.ts";
import { test } from "./support/fixtures.ts";
import { generateDataset } from "./support/insights-dataset.ts";
import { legacyRollup, uniformDay } from "./support/legacy-rollup.ts";
import { runCli as telemetry } from "./support/run-cli.ts";

const dataset = generateDataset();
const FROM = "2026-11-20";
const TO = "2026-11-22";
const COMMANDS = ["pull", "report", "sql", "dashboard", "publish", "export", "erase", "retention", "doctor", "serve"];

let data: string;
beforeAll(async () => {
  data = await dataFolder(dayFiles(dataset.events, { parts: 3, oldLayout: [FROM] }));
});
afterAll(async () => {
  await rm(data, { recursive: true, force: true });
});

describe("telemetry's parser", () => {
  it.each(COMMANDS)("gives --help for %s", async (command) => {
    const { code, stdout } = await telemetry([command, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: telemetry ${command} `));
  });

  it("lists every command in its own --help", async () => {
    const { code, stdout } = await telemetry(["--help"]);
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toContain(command);
  });

  it("exits 2 with a usage line on a bad flag, a bad value or a bad day", async () => {
    for (const args of [
      ["report", "--bogus"],
      ["report", "--format", "xml"],
      ["report", "--from", "22/11/2026"],
      // Date.parse takes it for 2026-12-01: the period would start a day the flag never named.
      ["report", "--from", "2026-11-31"],
      ["report", "--from", "2026-11-23", "--to", "2026-11-22", "--data", "."],
      ["pull"],
      ["pull", "--github", "acme/data"],
    ]) {
      const { code, stderr, stdout } = await telemetry(args);
      expect(code, args.join(" ")).toBe(2);
      expect(stderr, args.join(" ")).toMatch(/error:/);
      expect(stderr + stdout, args.join(" ")).toMatch(/Usage: telemetry \w+/);
    }
  });
});

describe("telemetry report", () => {
  it("names the days before the period that have files but no rollup: their installs would look new", async () => {
    const { code, stdout, stderr } = await telemetry(["report", "--data", data, "--from", TO, "--to", TO]);
    expect(code).toBe(0);
    expect(stdout).toContain("new_and_returning_installs");
    expect(stderr).toBe(
      `telemetry: ${FROM} to 2026-11-21 have event files but no rollup: an install seen only then counts as new (telemetry publish writes their rollups)\n`,
    );
  });

  it("prints the contract's JSON: totals, days, events, versions, os, errors, models, performance", async () => {
    const { code, stdout, stderr } = await telemetry([
      "report",
      "--data",
      data,
      "--from",
      FROM,
      "--to",
      TO,
      "--format",
      "json",
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const report = periodReportSchema.parse(JSON.parse(stdout));
    expect(report).toMatchObject({ from: FROM, to: TO });
    const received = [...dataset.expected.days.values()].reduce((sum, d) => sum + d.received, 0);
    expect(report.totals.received).toBe(received);
    expect(report.totals.sessions).toBe(dataset.expected.sessions);
    // The first day is in the layout before day folders, the others in parts: all are read.
    expect(report.days.map((d) => [d.day, d.received])).toEqual(
      [...dataset.expected.days].sort().map(([day, d]) => [day, d.received]),
    );
    expect(report.events.find((e) => e.event_name === "query.executed")!.count).toBe(
      Math.round(dataset.expected.eventCounts.get("query.executed")!.estimated),
    );
    expect(report.os.map((o) => o.os).sort()).toEqual(["Linux", "Windows", "macOS"]);
    expect(report.errors.length).toBe(3);
    expect(report.models[0]).toMatchObject({ model_name: "all-MiniLM-L6-v2", embedding_dimension: 384 });
    expect(report.performance.map((p) => p.event_name)).toContain("query.executed");
  });

  it("prints a table, Markdown and one long CSV", async () => {
    const table = await telemetry(["report", "--data", data, "--from", FROM, "--to", TO]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Telemetry 2026-11-20 to 2026-11-22/);
    expect(table.stdout).toMatch(/events\n.*event_name.*count/);
    const md = await telemetry(["report", "--data", data, "--from", FROM, "--to", TO, "--format", "md"]);
    expect(md.stdout).toMatch(/^# Telemetry/);
    expect(md.stdout).toContain("| event_name | count | received | installs |");
    const csv = await telemetry(["report", "--data", data, "--from", FROM, "--to", TO, "--format", "csv"]);
    const rows = csv.stdout.trim().split(/\r?\n/);
    expect(rows[0]).toBe("section,key,field,value");
    expect(rows).toContain(
      `totals,,received,${[...dataset.expected.days.values()].reduce((s, d) => s + d.received, 0)}`,
    );
  });

  it("reports a day whose files are gone from its rollup of format 2: its events exact, its installs within that format's error", async () => {
    // An older release's rollup, the day's raw files removed by retention; the days after it have theirs.
    const LEGACY_DAY = "2026-11-19";
    const INSTALLS = 3_000;
    const legacyEvents = uniformDay(LEGACY_DAY, INSTALLS);
    const folder = await dataFolder(
      new Map([
        ...dayFiles(dataset.events, { parts: 3 }),
        [`rollups/2026/${LEGACY_DAY}.json`, legacyRollup(legacyEvents, LEGACY_DAY)],
      ]),
    );
    try {
      const run = await telemetry(["report", "--data", folder, "--from", LEGACY_DAY, "--to", TO, "--format", "json"]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const report = periodReportSchema.parse(JSON.parse(run.stdout));
      const within = (estimate: number, exact: number, error: number) =>
        expect(Math.abs(estimate / exact - 1), `${estimate} for ${exact}`).toBeLessThan(3 * error);
      const legacyDay = report.days.find((d) => d.day === LEGACY_DAY)!;
      expect(legacyDay.received).toBe(legacyEvents.length);
      // 2^14 registers for a day's installs: 0.8% standard error.
      within(legacyDay.installs, INSTALLS, 0.008);
      // Merged with days of this format: counts exact, the installs' union within the older error.
      const received = [...dataset.expected.days.values()].reduce((sum, d) => sum + d.received, 0);
      expect(report.totals.received).toBe(received + legacyEvents.length);
      const launches = report.events.find((e) => e.event_name === "app_launch")!;
      expect(launches.received).toBe(dataset.expected.eventCounts.get("app_launch")!.received + INSTALLS);
      const installs = new Set([...dataset.expected.days.values()].flatMap((d) => [...d.installs]));
      within(report.totals.installs, installs.size + INSTALLS, 0.008);
      // 2^11 registers for an error group's installs: 2.3%; its first version is not known.
      const group = report.errors.find((e) => e.fingerprint === "legacy-group")!;
      expect(group).toMatchObject({ received: INSTALLS, first_version: null, versions: ["0.9.0"] });
      within(group.installs, INSTALLS, 0.023);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("names a malformed line by file and line, leaves it out, and exits 1", async () => {
    const broken = await dataFolder(
      new Map([["telemetry/2026/11/22/0001.ndjson", `${JSON.stringify(dataset.events[0])}\n{"oops": \n`]]),
    );
    const { code, stdout, stderr } = await telemetry([
      "report",
      "--data",
      broken,
      "--from",
      TO,
      "--to",
      TO,
      "--format",
      "json",
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain("telemetry/2026/11/22/0001.ndjson:2: not JSON");
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse(stdout).ingest.malformed).toBe(1);
    await rm(broken, { recursive: true, force: true });
  });

  it("says plainly that a folder is missing, with no stack trace", async () => {
    const { code, stderr } = await telemetry(["report", "--data", "/nonexistent/telemetry"]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      "telemetry: no such folder: /nonexistent/telemetry (run telemetry pull first, or name one with --data)\n",
    );
  });
});

describe("telemetry sql", () => {
  it("answers SQL over the events view with typed columns", async () => {
    const { code, stdout } = await telemetry([
      "sql",
      "--data",
      data,
      "--format",
      "json",
      "SELECT day, count(*) AS events, count(DISTINCT hwid) AS installs FROM events WHERE client_type <> 'unit-tests' GROUP BY day ORDER BY day",
    ]);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as { day: string; events: number; installs: number }[];
    expect(rows).toEqual(
      [...dataset.expected.days].sort().map(([day, d]) => ({ day, events: d.received, installs: d.installs.size })),
    );
  });

  it("reports a bad query as DuckDB words it, exit 1", async () => {
    const { code, stderr } = await telemetry(["sql", "--data", data, "SELECT nope FROM events"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^telemetry: .*nope/);
  });
});

describe("telemetry dashboard", () => {
  it("renders the README, valid SVG charts it links to, and the model registry", async () => {
    const out = join(data, "..", `${data.split("/").at(-1)}-dashboard`);
    const { code, stderr } = await telemetry(["dashboard", "--data", data, "--to", TO, "--out", out]);
    expect(code, stderr).toBe(0);
    const readme = await readFile(join(out, "README.md"), "utf8");
    expect(readme).toContain("# Telemetry dashboard");
    // It read the event files, not rollups: the README says so.
    expect(readme).toMatch(/^The last .* Updated \S+ from the event files;/m);
    const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThanOrEqual(6);
    for (const link of links) expect((await stat(join(out, link))).isFile(), link).toBe(true);
    for (const name of (await readdir(out)).filter((n) => n.endsWith(".svg"))) {
      const svg = await readFile(join(out, name), "utf8");
      expect(XMLValidator.validate(svg), name).toBe(true);
      expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    }
    const registry = JSON.parse(await readFile(join(out, "model-registry.json"), "utf8"));
    expect(registry.models[0].model_name).toBe("all-MiniLM-L6-v2");
    await rm(out, { recursive: true, force: true });
  });
});

describe("telemetry pull", () => {
  test("mirrors the data repository, then downloads only what changed", async ({ serveGitHub }) => {
    const { fake: github, url } = await serveGitHub({ token: "pull-token" });
    const files = dayFiles(dataset.events, { parts: 3 });
    github.seedAll([...files, ["rollups/2026/2026-11-20.json", "{}\n"], ["README.md", "mine\n"]]);
    const to = `${data}-pulled`;
    const env = { GITHUB_TOKEN: "pull-token", GITHUB_API_URL: url };
    try {
      const first = await telemetry(["pull", "--github", "acme/data", "--to", to], env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toMatch(
        new RegExp(`pulled acme/data into ${to}: ${files.size + 1} downloaded .* 0 unchanged`),
      );
      for (const [path, content] of files) expect(await readFile(join(to, path), "utf8")).toBe(content);
      await expect(stat(join(to, "README.md"))).rejects.toThrow();

      const [changed] = [...files.keys()];
      github.seed(changed!, `${files.get(changed!)}${JSON.stringify(dataset.events[0])}\n`);
      await writeFile(join(to, "telemetry", "stray.ndjson"), "{}\n");
      const second = await telemetry(["pull", "--github", "acme/data", "--to", to], env);
      // The stray file is not one pull wrote: it stays.
      expect(second.stderr).toMatch(/: 1 downloaded .*, \d+ unchanged, 0 removed/);
      expect(await readFile(join(to, "telemetry", "stray.ndjson"), "utf8")).toBe("{}\n");
      expect(await readFile(join(to, changed!), "utf8")).toContain(dataset.events[0]!.event_id);

      const refused = await telemetry(["pull", "--github", "acme/data", "--to", to], { ...env, GITHUB_TOKEN: "wrong" });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^telemetry: .*(401|Bad credentials)/);
      expect(refused.stderr).not.toContain("wrong");
    } finally {
      await rm(to, { recursive: true, force: true });
    }
  });
});
