/**
 * `telemetry serve` over 30 days of a local folder, in Debian's chromium: the page's weight (bytes
 * transferred by its first load, the chart libraries included), the time until the installs figure
 * holds a number, and the time a version filter takes (DuckDB picks the lines, the tally counts them).
 */
import { rm } from "node:fs/promises";
import { chromium } from "playwright-core";
import { addDays, dayOf } from "../lib/day.ts";
import { dataFolder, dayFiles } from "../test/support/data-folder.ts";
import { generateDataset } from "../test/support/insights-dataset.ts";
import { CHROMIUM, serveCli } from "../test/support/serve-cli.ts";

const DAYS = 30;
const INSTALLS = 3000;
const FIGURE = '[data-figure="installs"]';

interface ServeFigures {
  events: number;
  megabytes: number;
  pageBytes: number;
  requests: number;
  firstFigureSeconds: number;
  filteredSeconds: number;
  /** The status line said "reading N MB" while the first figures were read. */
  showedProgress: boolean;
}

export async function servePage(): Promise<ServeFigures> {
  const today = dayOf(new Date());
  const days = Array.from({ length: DAYS }, (_, i) => addDays(today, i - DAYS));
  const { events } = generateDataset({ installs: INSTALLS, days });
  const files = dayFiles(events);
  const dir = await dataFolder(files);
  const served = await serveCli(["--data", dir, "--port", "0"]);
  const browser = await chromium.launch(CHROMIUM);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The first load's requests only: the page polls on while a later question is read.
    const sizes: Promise<number>[] = [];
    let loading = true;
    page.on("requestfinished", (request) => {
      if (loading) sizes.push(request.sizes().then((size) => size.responseBodySize + size.responseHeadersSize));
    });
    const started = performance.now();
    await page.goto(served.url);
    const progress = page
      .waitForFunction(() => /reading [\d.]+ MB/.test(document.querySelector("#status")?.textContent ?? ""))
      .then(() => true)
      .catch(() => false);
    await page.waitForFunction((selector) => /\d/.test(document.querySelector(selector)?.textContent ?? ""), FIGURE, {
      timeout: 600_000,
    });
    const firstFigureSeconds = (performance.now() - started) / 1000;
    loading = false;
    const pageBytes = (await Promise.all(sizes)).reduce((sum, n) => sum + n, 0);
    const requests = sizes.length;
    const showedProgress = await Promise.race([progress, Promise.resolve(false)]);
    const filterStarted = performance.now();
    await page.selectOption('select[name="version"]', "1.2.0");
    await page.waitForFunction(() => document.body.dataset.filtered === "true", undefined, { timeout: 600_000 });
    const filteredSeconds = (performance.now() - filterStarted) / 1000;
    const megabytes = [...files.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0) / 1e6;
    return {
      events: events.length,
      megabytes,
      pageBytes,
      requests,
      firstFigureSeconds,
      filteredSeconds,
      showedProgress,
    };
  } finally {
    await browser.close();
    await served.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function printServe(figures: ServeFigures): void {
  const rows: [string, string][] = [
    ["data", `${figures.events.toLocaleString("en")} events over ${DAYS} days, ${figures.megabytes.toFixed(1)} MB`],
    ["page weight, first load", `${(figures.pageBytes / 1e6).toFixed(2)} MB in ${figures.requests} requests`],
    ["time to the first figure (installs)", `${figures.firstFigureSeconds.toFixed(2)} s`],
    ["'reading N MB' shown while it read", figures.showedProgress ? "yes" : "no"],
    ["a version filter, until its figures show", `${figures.filteredSeconds.toFixed(2)} s`],
  ];
  for (const [label, value] of rows) console.log(`    ${label.padEnd(52)} ${value}`);
}
