import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PublishReport } from "../lib/insights/publish-insights.ts";
import type { RetentionReport } from "../lib/lifecycle/apply-retention.ts";
import { periodReportSchema } from "../lib/present/period-report.ts";
import { dataFolder, dayFiles } from "./support/data-folder.ts";
import { test } from "./support/fixtures.ts";
import { generateDataset } from "./support/insights-dataset.ts";
import { runCli as telemetry } from "./support/run-cli.ts";

/** A CLI that fails loudly and says everything: no silent zeros, one-line errors, every figure in every format. */
const dataset = generateDataset();
const FROM = "2026-11-20";
const TO = "2026-11-22";
const period = ["--from", FROM, "--to", TO];

let data: string;
let empty: string;
beforeAll(async () => {
  data = await dataFolder(dayFiles(dataset.events, { parts: 2 }));
  empty = await mkdtemp(join(tmpdir(), "telemetry-empty-"));
});
afterAll(async () => {
  await rm(data, { recursive: true, force: true });
  await rm(empty, { recursive: true, force: true });
});

describe("telemetry sql over a file with a malformed line", () => {
  it("leaves the line out of a filtered query too, names it on stderr, and exits 1", async () => {
    const event = dataset.events.find((e) => e.client_type !== "unit-tests")!;
    const good = JSON.stringify(event);
    const broken = await dataFolder(new Map([["telemetry/2026/11/22/0001.ndjson", `${good}\n{"oops": \n${good}\n`]]));
    try {
      const { code, stdout, stderr } = await telemetry([
        "sql",
        "--data",
        broken,
        "--format",
        "json",
        "SELECT day, count(*) AS events FROM events WHERE client_type <> 'unit-tests' GROUP BY day",
      ]);
      expect(JSON.parse(stdout)).toEqual([{ day: event.created_at.slice(0, 10), events: 2 }]);
      expect(stderr).toContain("telemetry/2026/11/22/0001.ndjson:2: not valid JSON\n");
      expect(stderr).not.toMatch(/Malformed JSON/);
      expect(code).toBe(1);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});

describe("telemetry report --verify with nothing to verify", () => {
  it("says no day of the period has a rollup, and exits 1 rather than pass on nothing", async () => {
    const { code, stdout, stderr } = await telemetry(["report", "--data", data, ...period, "--verify"]);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      `telemetry: no day from ${FROM} to ${TO} has a rollup to verify (the hourly job writes them: telemetry publish runs it now)\n`,
    );
    expect(code).toBe(1);
  });
});

describe("a data folder with nothing to read", () => {
  const noData = (dir: string, prefix = "telemetry") =>
    `telemetry: no NDJSON files under ${join(dir, prefix)}/ (TELEMETRY_PATH_PREFIX=${prefix}): run telemetry pull first, or name the data folder with --data\n`;

  it.each([
    ["report"],
    ["dashboard", "--out", join(tmpdir(), "telemetry-never-written")],
    ["export", "--hwid", "x"],
    ["erase", "--dry-run", "--hwid", "x"],
    ["retention", "--dry-run", "--days", "30"],
    ["sql", "SELECT count(*) FROM events"],
    ["serve", "--port", "0"],
  ])("is an error for %s: exit 1, one line naming the folder and the prefix", async (...args) => {
    const { code, stdout, stderr } = await telemetry([...args, "--data", empty]);
    expect(stderr).toBe(noData(empty));
    expect(stdout).toBe("");
    expect(code).toBe(1);
  });

  it("names the prefix it looked under when TELEMETRY_PATH_PREFIX points elsewhere", async () => {
    const { code, stderr } = await telemetry(["report", "--data", data], { TELEMETRY_PATH_PREFIX: "events" });
    expect(stderr).toBe(noData(data, "events"));
    expect(code).toBe(1);
  });

  test("is an error for a repository read with --github, and for pull of it", async ({ serveGitHub }) => {
    const { fake: github, url } = await serveGitHub({ token: "empty-token" });
    github.seed("README.md", "mine\n");
    const env = { GITHUB_TOKEN: "empty-token", GITHUB_API_URL: url };
    const noData =
      "telemetry: no NDJSON files under acme/data:telemetry/ (TELEMETRY_PATH_PREFIX=telemetry): check --github and TELEMETRY_PATH_PREFIX\n";
    const report = await telemetry(["report", "--github", "acme/data"], env);
    expect(report).toMatchObject({ code: 1, stdout: "", stderr: noData });
    const to = join(empty, "pulled");
    const pull = await telemetry(["pull", "--github", "acme/data", "--to", to], env);
    expect(pull).toMatchObject({ code: 1, stderr: noData });
  });

  it("says so when --data names the prefix's own folder", async () => {
    const inside = join(data, "telemetry");
    const { code, stderr } = await telemetry(["report", "--data", inside]);
    expect(stderr).toBe(
      `telemetry: no NDJSON files under ${join(inside, "telemetry")}/ (TELEMETRY_PATH_PREFIX=telemetry): ${inside} itself holds the days: name the folder above it with --data\n`,
    );
    expect(code).toBe(1);
  });

  it("is no error for a period with no data (zeros are true then), but stderr says so", async () => {
    const { code, stdout, stderr } = await telemetry([
      "report",
      "--data",
      data,
      "--from",
      "2026-10-01",
      "--to",
      "2026-10-31",
      "--format",
      "json",
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).totals.received).toBe(0);
    expect(stderr).toBe(
      `telemetry: no day from 2026-10-01 to 2026-10-31 has data: the figures are zeros (${data} holds ${FROM} to ${TO})\n`,
    );
  });
});

describe("telemetry retention --days without --dry-run", () => {
  it("is refused with a usage line, before any call to the site", async () => {
    // Nothing listens there: a call would fail with exit 1, not 2.
    const { code, stdout, stderr } = await telemetry(["retention", "--days", "30", "--url", "http://127.0.0.1:9"]);
    expect(stdout).toBe("");
    expect(stderr.split("\n")[0]).toMatch(/^error: --days .*--dry-run.*TELEMETRY_RETENTION_DAYS/);
    expect(code).toBe(2);
  });
});

describe("telemetry report's text formats carry what its JSON carries", () => {
  const report = (format: string) => telemetry(["report", "--data", data, ...period, "--format", format]);

  it("shows operating systems by family and version, and each error group's traceback", async () => {
    const json = periodReportSchema.parse(JSON.parse((await report("json")).stdout));
    const windows = json.os.find((os) => os.os === "Windows")!;
    expect(windows.versions.map((v) => v.version).sort()).toEqual(["10", "11"]);
    const error = json.errors[0]!;
    const lastLine = error.traceback!.split("\n").at(-1)!;

    const table = await report("table");
    expect(table.code).toBe(0);
    for (const version of windows.versions)
      expect(table.stdout).toMatch(new RegExp(`\\nWindows +${version.version} +${version.installs}\\n`));
    // Under the errors table, each group's traceback, indented.
    expect(table.stdout).toContain(`\n    ${lastLine}\n`);

    const md = await report("md");
    expect(md.stdout).toMatch(new RegExp(`\\| Windows \\| ${windows.versions[0]!.version} \\| \\d+ \\|`));
    expect(md.stdout).toContain("<details>");
    expect(md.stdout).toContain(lastLine);

    const csv = await report("csv");
    expect(csv.stdout).toContain(
      `os,Windows ${windows.versions[0]!.version},installs,${windows.versions[0]!.installs}`,
    );
    expect(csv.stdout).toContain(`errors,${error.fingerprint},traceback,"${error.traceback!.replaceAll('"', '""')}"`);
    // Every field an error carries is in every format (the fingerprint is the csv's key).
    for (const field of Object.keys(error).filter((name) => name !== "fingerprint")) {
      expect(csv.stdout).toContain(`errors,${error.fingerprint},${field},`);
      if (field !== "traceback") expect(table.stdout).toContain(field);
    }
  });
});

describe("telemetry sql's errors", () => {
  it("folds DuckDB's message, its query line and caret into one line that keeps the position", async () => {
    const { code, stderr } = await telemetry(["sql", "--data", data, "SELEC day FROM events"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^telemetry: Parser Error: syntax error at or near "SELEC" \(line 1, column 1\)\n$/);
    const bound = await telemetry(["sql", "--data", data, "SELECT day, nope FROM events"]);
    expect(bound.stderr.split("\n")).toHaveLength(2);
    expect(bound.stderr).toMatch(/^telemetry: Binder Error: .*"nope".*\(line 1, column 13\)\n$/);
  });
});

describe("telemetry report over a long period", () => {
  const report = async (from: string, ...more: string[]) => {
    const { code, stdout, stderr } = await telemetry(["report", "--data", data, "--from", from, "--to", TO, ...more]);
    expect(code, stderr).toBe(0);
    return stdout;
  };
  const received = [...dataset.expected.days.values()].reduce((sum, d) => sum + d.received, 0);

  it("shows days up to 62 days, then ISO weeks keyed by their Monday, saying which grain", async () => {
    const days = periodReportSchema.parse(JSON.parse(await report("2026-09-22", "--format", "json")));
    expect(days.grain).toBe("day");
    expect(days.days).toHaveLength(62);
    const weeks = periodReportSchema.parse(JSON.parse(await report("2026-09-21", "--format", "json")));
    expect(weeks.grain).toBe("week");
    expect(weeks.days[0]!.day).toBe("2026-09-21");
    expect(weeks.days.at(-1)).toMatchObject({ day: "2026-11-16", received });
    expect(weeks.days).toHaveLength(9);
  });

  it("shows months over a year, in every format, and --by day asks for days", async () => {
    const months = periodReportSchema.parse(JSON.parse(await report("2020-01-01", "--format", "json")));
    expect(months.grain).toBe("month");
    expect(months.days[0]!.day).toBe("2020-01-01");
    expect(months.days.at(-1)).toMatchObject({ day: "2026-11-01", received });
    expect(months.days).toHaveLength(6 * 12 + 11);
    const table = await report("2020-01-01");
    expect(table).toContain("\nmonths\nmonth ");
    expect(table.split("\n").length).toBeLessThan(200);
    expect(await report("2020-01-01", "--format", "csv")).toContain(`months,2026-11-01,received,${received}`);
    expect(await report("2020-01-01", "--format", "md")).toContain("## months");
    const byDay = periodReportSchema.parse(JSON.parse(await report("2020-01-01", "--by", "day", "--format", "json")));
    expect(byDay).toMatchObject({ grain: "day" });
    expect(byDay.days.length).toBeGreaterThan(2500);
  });
});

/** The site's job functions, as `telemetry publish` and `retention` meet them: each call answers the next report given. */
async function serveJobs(reports: { publish?: PublishReport[]; retention?: RetentionReport[] }) {
  const calls: string[] = [];
  const server = createServer((request, response) => {
    const job = request.url?.split("/").at(-1) as "publish" | "retention";
    calls.push(`${request.method} ${request.url}`);
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ status: "ok", [job]: reports[job]!.shift() }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const published = (over: Partial<PublishReport>): PublishReport => ({
  outcome: "published",
  days: [],
  pending: 0,
  commit: null,
  files_written: 0,
  duration_ms: 1200,
  error: null,
  ...over,
});
const readDay = (day: string) => ({ day, bytes_read: 100, files_read: 1, caught_up: true, malformed: 0 });

describe("telemetry publish", () => {
  const runs = () => [
    published({ days: [readDay("2026-11-20"), readDay("2026-11-21")], pending: 1, commit: "a1b2c3d4e5f60718293a" }),
    published({ days: [readDay("2026-11-22")], pending: 0, commit: "0f1e2d3c4b5a69788796" }),
  ];

  it("prints a line a run and a final line, readable", async () => {
    const site = await serveJobs({ publish: runs() });
    try {
      const { code, stdout, stderr } = await telemetry(["publish", "--url", site.url]);
      expect(code, stderr).toBe(0);
      expect(stdout).toBe(
        "published: 2 day(s) (2026-11-20 to 2026-11-21), commit a1b2c3d, 1 pending\n" +
          "published: 1 day(s) (2026-11-22), commit 0f1e2d3, 0 pending\n",
      );
      expect(stderr).toBe("telemetry: publish: 3 day(s) rolled up in 2 run(s), last commit 0f1e2d3; nothing pending\n");
      expect(site.calls).toEqual(["POST /api/v1/jobs/publish", "POST /api/v1/jobs/publish"]);
    } finally {
      await site.close();
    }
  });

  it("prints each run's report as a JSON line with --json, and exits 1 when the last run failed", async () => {
    const failed = published({ outcome: "failed", pending: 4, error: "GitHub answered 502" });
    const site = await serveJobs({ publish: [...runs().slice(0, 1), failed] });
    try {
      const { code, stdout, stderr } = await telemetry(["publish", "--json", "--url", site.url]);
      expect(
        stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as PublishReport),
      ).toEqual([runs()[0], failed]);
      expect(stderr).toBe(
        "telemetry: publish: 2 day(s) rolled up in 2 run(s), last commit a1b2c3d; 4 day(s) left: the last run ended failed (GitHub answered 502), run it again\n",
      );
      expect(code).toBe(1);
    } finally {
      await site.close();
    }
  });
});

describe("telemetry retention", () => {
  const removed = (over: Partial<RetentionReport>): RetentionReport => ({
    outcome: "removed",
    keep_from: "2026-11-08",
    days: [],
    waiting: [],
    pending: 0,
    commit: null,
    squashed: null,
    squash_error: null,
    error: null,
    ...over,
  });
  const day = (d: string) => ({ day: d, files: [`telemetry/${d.replaceAll("-", "/")}/0001.ndjson`], bytes: 10 });
  const runs = () => [
    removed({ days: [day("2026-10-01"), day("2026-10-02")], pending: 1, commit: "99887766554433221100" }),
    removed({ days: [day("2026-10-03")], waiting: ["2026-10-04"], commit: "11223344556677889900" }),
  ];

  it("prints a line a run and a final line, or the JSON lines with --json", async () => {
    const site = await serveJobs({ retention: runs() });
    try {
      const { code, stdout, stderr } = await telemetry(["retention", "--url", site.url]);
      expect(code, stderr).toBe(0);
      expect(stdout).toBe(
        "removed: 2 day(s) (2026-10-01 to 2026-10-02, 2 file(s)), commit 9988776, 1 pending\n" +
          "removed: 1 day(s) (2026-10-03, 1 file(s)), commit 1122334, 0 pending, 1 waiting for rollups\n",
      );
      expect(stderr).toBe(
        "telemetry: removed 3 file(s) of 3 day(s) before 2026-11-08; 1 day(s) wait for their rollups (2026-10-04): a later run removes them\n",
      );
    } finally {
      await site.close();
    }
    const again = await serveJobs({ retention: runs() });
    try {
      const { code, stdout } = await telemetry(["retention", "--json", "--url", again.url]);
      expect(code).toBe(0);
      expect(
        stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as RetentionReport),
      ).toEqual(runs());
    } finally {
      await again.close();
    }
  });
});
