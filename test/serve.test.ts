import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { addDays, dayOf } from "../lib/day.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { rollupPath } from "../lib/tally/day-rollup.ts";
import { errorSamplesSchema } from "../lib/explore/error-samples.ts";
import { figuresAnswerSchema } from "../lib/explore/explorer.ts";
import { metadataBreakdownSchema } from "../lib/explore/metadata-breakdown.ts";
import { dataFolder, dayFiles } from "./support/data-folder.ts";
import { generateDataset } from "./support/insights-dataset.ts";
import { test } from "./support/fixtures.ts";
import { runCli } from "./support/run-cli.ts";
import { CHROMIUM, serveCli, type Served } from "./support/serve-cli.ts";

/** Each state the browser reaches is kept as a screenshot here. */
const SHOTS = join(import.meta.dirname, "..", "test-results", "serve");
const WAIT = { timeout: 60_000 };

const today = dayOf(new Date());
const days = [addDays(today, -3), addDays(today, -2), addDays(today, -1)];
const { events } = generateDataset({ installs: 60, days });
// A second model, registered less often, so that sorting the registry moves a row.
for (const [i, hwid] of ["install-1", "install-4", "install-7"].entries())
  events.push({
    ...events.find((e) => e.event_name === "model_registration")!,
    event_id: `00000000-0000-4000-9000-${String(i).padStart(12, "0")}`,
    hwid,
    app_version: "1.3.0",
    metadata: { model_name: "bge-small-en", model_source: "huggingface", embedding_dimension: 384 },
  });
// Netlify told some callers' country: the rest are of unknown country.
for (const event of events) if (/^install-[0-4]$/.test(event.hwid)) event.country = "DE";
const real = events.filter((e) => e.client_type !== "unit-tests");
// Ten installs were seen 40 days ago, before any period asked here: only that day's rollup is kept.
const early = [...new Set(real.map((e) => e.hwid))].slice(0, 10);
const earlyDay = addDays(today, -40);
const earlyTally = new EventTally();
for (const hwid of early)
  earlyTally.add({ ...real.find((e) => e.hwid === hwid)!, created_at: `${earlyDay}T12:00:00.000Z` });
const earlyRollup = earlyTally.toRollup({
  day: earlyDay,
  updated_at: `${earlyDay}T23:00:00.000Z`,
  complete: true,
  source: null,
  parts: [],
});
/** Installs first seen in `lines`: not among the early ones. */
const newOf = (lines: StoredEvent[]) => new Set(lines.map((e) => e.hwid).filter((h) => !early.includes(h))).size;
const installsOf = (lines: StoredEvent[]) => new Set(lines.map((e) => e.hwid)).size;
const lastDay = days.at(-1)!;
const picked = real.filter((e) => e.app_version === "1.2.0" && e.created_at.startsWith(lastDay));

let served: Served;
let browser: Browser;
/** Folders the tests made, removed after them. */
const made: string[] = [];
const folderOf = async (files: Map<string, string>) => {
  const dir = await dataFolder(files);
  made.push(dir);
  return dir;
};

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  const files = dayFiles(events).set(rollupPath(earlyDay), JSON.stringify(earlyRollup));
  served = await serveCli(["--data", await folderOf(files), "--port", "0"]);
  browser = await chromium.launch(CHROMIUM);
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("telemetry serve", () => {
  it("listens on loopback only, unless --host says otherwise", async () => {
    expect(new URL(served.url).hostname).toBe("127.0.0.1");
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((address) => address?.family === "IPv4" && !address.internal);
    if (outside) {
      const elsewhere = new URL(served.url);
      elsewhere.hostname = outside.address;
      await expect(fetch(elsewhere)).rejects.toThrow();
    }
  });

  it("says in one line that its port is taken, and how to take another", async () => {
    const { port } = new URL(served.url);
    const { code, stderr } = await runCli(["serve", "--data", await folderOf(dayFiles(events)), "--port", port]);
    expect(code).toBe(1);
    expect(stderr).toBe(`telemetry: 127.0.0.1:${port} is in use: name another --port, or --port 0 for any free one\n`);
  });

  it("answers the report's figures, and a bad parameter with a 400 in JSON", async () => {
    const answer = figuresAnswerSchema.parse(await (await fetch(`${served.url}api/figures?days=7`)).json());
    expect(answer.report.totals.installs).toBe(installsOf(real));
    // Filters combine, an OS by family or by family and version, as the report groups them.
    const figures = async (query: string) =>
      figuresAnswerSchema.parse(await (await fetch(`${served.url}api/figures?${query}`)).json()).report.totals;
    const onOs = (prefix: string) => real.filter((e) => String(e.metadata.os).startsWith(prefix));
    expect((await figures("os=Windows")).installs).toBe(installsOf(onOs("Windows-")));
    expect((await figures("os=Windows+11")).installs).toBe(installsOf(onOs("Windows-10-10.0.22631")));
    const linuxStarts = onOs("Linux-").filter((e) => e.event_name === "session.start" && e.app_version === "1.3.0");
    expect(await figures("os=Linux&event=session.start&version=1.3.0&client_type=vector-inspector")).toMatchObject({
      sessions: linuxStarts.length,
      installs: installsOf(linuxStarts),
    });
    for (const query of ["days=13", "version=1.2.0&colour=red", "from=2026-02-30&to=2026-03-01"]) {
      const response = await fetch(`${served.url}api/figures?${query}`);
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect((await response.json()) as unknown).toEqual({ error: expect.stringMatching(/bad parameter/) });
    }
  });

  it("answers an error group's lines newest first without install ids, and an event's breakdown", async () => {
    const { report } = figuresAnswerSchema.parse(await (await fetch(`${served.url}api/figures`)).json());
    const group = report.errors.find((e) => e.exception_type === "ValueError")!;
    const raw = (await (await fetch(`${served.url}api/error-group?fingerprint=${group.fingerprint}`)).json()) as {
      lines: Record<string, unknown>[];
    };
    const samples = errorSamplesSchema.parse(raw);
    const occurrences = real.filter((e) => e.event_name === "sample_db.create_failed");
    expect(samples.total).toBe(occurrences.length);
    expect(samples.lines.map((line) => line.created_at)).toEqual(
      occurrences
        .map((e) => e.created_at)
        .sort()
        .reverse()
        .slice(0, samples.page_size),
    );
    expect(raw.lines.every((line) => !("hwid" in line) && !("ip" in line))).toBe(true);

    const breakdown = metadataBreakdownSchema.parse(
      await (await fetch(`${served.url}api/breakdown?event=session.end&key=exit_reason`)).json(),
    );
    const ends = real.filter((e) => e.event_name === "session.end");
    expect(breakdown.values).toEqual([
      { value: "normal", lines: ends.filter((e) => e.metadata.exit_reason === "normal").length },
      { value: "crash", lines: ends.filter((e) => e.metadata.exit_reason === "crash").length },
    ]);
  });

  it("shows the figures, follows the filters and opens error groups, events and the model registry in chromium", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(served.url);
    await expect.poll(() => figure(page, "installs"), WAIT).toBe(installsOf(real));
    // New to the app, or seen before the period (the early day's rollup): together, the period's installs.
    expect(await figure(page, "new_installs")).toBe(newOf(real));
    expect(await figure(page, "returning_installs")).toBe(early.length);
    await expect(
      page.locator('table[data-figure="countries"] tbody tr', { hasText: "DE" }).textContent(WAIT),
    ).resolves.toMatch(new RegExp(`^DE${installsOf(real.filter((e) => e.country === "DE"))}`));
    await page.waitForSelector('[data-figure="chart-active-installs"] svg', WAIT);
    await page.screenshot({ path: join(SHOTS, "1-loaded.png"), fullPage: true });
    // The README's chart, interactive: hovering a bar tells its value.
    await page.locator('[data-figure="chart-events"] .mark-rect path').first().hover();
    await expect(page.locator("#vg-tooltip-element.visible").textContent(WAIT)).resolves.toContain("query.executed");
    await page.screenshot({ path: join(SHOTS, "1-tooltip.png") });

    await page.selectOption('select[name="version"]', "1.2.0");
    const version = real.filter((e) => e.app_version === "1.2.0");
    await expect.poll(() => figure(page, "installs"), WAIT).toBe(installsOf(version));
    expect(await figure(page, "new_installs")).toBe(newOf(version));
    await page.fill('input[name="from"]', lastDay);
    await expect.poll(() => figure(page, "installs"), WAIT).toBe(installsOf(picked));
    await page.screenshot({ path: join(SHOTS, "2-filtered.png"), fullPage: true });

    await page.locator('table[data-figure="errors"] tbody tr', { hasText: "ValueError" }).click();
    await expect(page.locator('[data-figure="traceback"]').textContent(WAIT)).resolves.toMatch(
      /^Traceback \(most recent call last\):[\s\S]*sample_db\.py/,
    );
    const occurrences = picked.filter((e) => e.event_name === "sample_db.create_failed").length;
    await expect.poll(() => page.locator('[data-figure="error-line"]').count(), WAIT).toBe(occurrences);
    await page.screenshot({ path: join(SHOTS, "3-error-group.png") });
    await page.keyboard.press("Escape");

    await page.locator('table[data-figure="events"] tbody tr', { hasText: "session.end" }).click();
    await page.waitForSelector('[data-figure="event-breakdown"]', WAIT);
    await page.selectOption('select[name="key"]', "exit_reason");
    const crashes = picked.filter((e) => e.event_name === "session.end" && e.metadata.exit_reason === "crash").length;
    await expect
      .poll(() => page.locator('table[data-figure="breakdown-values"] tr', { hasText: "crash" }).textContent(), WAIT)
      .toBe(`crash${crashes}`);
    await page.screenshot({ path: join(SHOTS, "4-event-breakdown.png") });
    await page.keyboard.press("Escape");

    await page.selectOption('select[name="version"]', "all");
    await page.selectOption('select[name="days"]', "30");
    await expect.poll(() => figure(page, "installs"), WAIT).toBe(installsOf(real));
    const models = page.locator('table[data-figure="models"]');
    await models.locator("th", { hasText: "registrations" }).click();
    await expect.poll(() => models.locator("tbody tr").first().textContent(), WAIT).toMatch(/^all-MiniLM/);
    await models.locator("th", { hasText: "registrations" }).click();
    await expect.poll(() => models.locator("tbody tr").first().textContent(), WAIT).toMatch(/^bge-small-en/);
    await page.screenshot({ path: join(SHOTS, "5-models-sorted.png"), fullPage: true });

    const origin = new URL(served.url).origin;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    await page.close();
  });

  it("with --host 0.0.0.0, warns that others may reach it and prints a URL this machine opens", async () => {
    const everywhere = await serveCli(["--data", await folderOf(dayFiles(events)), "--port", "0", "--host", "0.0.0.0"]);
    try {
      expect(new URL(everywhere.url).hostname).toBe("127.0.0.1");
      expect((await fetch(everywhere.url)).status).toBe(200);
      await expect.poll(() => everywhere.stderr(), WAIT).toMatch(/serving on 0\.0\.0\.0: whoever reaches it/);
    } finally {
      await everywhere.stop();
    }
  });

  it("serves on when --open finds no browser to open", async () => {
    const empty = await mkdtemp(join(tmpdir(), "no-browser-"));
    made.push(empty);
    const other = await serveCli(["--data", await folderOf(dayFiles(events)), "--port", "0", "--open"], {
      PATH: empty,
    });
    try {
      await expect.poll(() => other.stderr(), WAIT).toMatch(/no browser to open/);
      expect((await fetch(other.url)).status).toBe(200);
    } finally {
      await other.stop();
    }
  });
});

describe("telemetry serve --github", () => {
  test("downloads a filter's raw files into its cache once, and counts them as --data does", async ({
    serveGitHub,
    tempDir,
  }) => {
    const github = await serveGitHub();
    github.fake.seedAll(dayFiles(events));
    const cache = await tempDir("telemetry-serve-cache-");
    const remote = await serveCli(["--github", "acme/data", "--port", "0", "--cache", cache], github.env);
    try {
      const figures = async (query: string) =>
        figuresAnswerSchema.parse(await (await fetch(`${remote.url}api/figures?${query}`)).json()).report.totals;
      expect((await figures("")).installs).toBe(installsOf(real));
      const version = real.filter((e) => e.app_version === "1.2.0");
      expect((await figures("version=1.2.0")).installs).toBe(installsOf(version));
      const reads = () => github.fake.requests.filter((r) => /\/contents\/.*\.ndjson$|\/tarball\//.test(r.path)).length;
      const before = reads();
      expect((await figures("version=1.3.0")).installs).toBe(installsOf(real.filter((e) => e.app_version === "1.3.0")));
      expect(reads()).toBe(before);
    } finally {
      await remote.stop();
    }
  });
});

/** A figure's number as the page shows it, or undefined while it shows none. */
async function figure(page: Page, name: string): Promise<number | undefined> {
  const text = await page
    .locator(`[data-figure="${name}"]`)
    .textContent({ timeout: 1000 })
    .catch(() => null);
  const number = Number(text?.replaceAll(",", ""));
  return text && Number.isFinite(number) ? number : undefined;
}
