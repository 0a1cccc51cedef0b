import { XMLValidator } from "fast-xml-parser";
import { afterEach, describe, expect, it } from "vitest";
import { addDays, dayOf } from "../lib/day.ts";
import { renderChart, type ChartSpec } from "../lib/present/charts/render-chart.ts";
import { parseSvg, svgTexts } from "./support/svg-texts.ts";

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = "720";
/** Names as clients send them, with every character that XML must escape. */
const SERIES = ["<script>alert(1)</script>", "Tom & Jerry", 'say "hi"', "it's", "1.4.0", "1.5.0", "1.6.0", "other"];
const DAYS = 60;
const START = Date.UTC(2026, 0, 1);
const LONG_LABEL = "ConnectionError: could not connect to server at <url> after <n> retries";

const day = (i: number) => addDays(dayOf(START), i);
const points = (days: number, series = SERIES) =>
  Array.from({ length: days }, (_, d) =>
    series.map((name, s) => ({ x: day(d), series: name, y: (s + 1) * 10 + (d % 7) })),
  )
    .flat()
    // Not in order, as a caller that groups by series would hand them over.
    .sort((a, b) => (a.series < b.series ? -1 : a.series > b.series ? 1 : 0));

const span = (days: number, partial = false) => ({ from: day(0), to: day(days - 1), partial });

const charts: Record<ChartSpec["kind"], ChartSpec> = {
  lines: {
    kind: "lines",
    title: 'Installs by <version> & "channel"',
    yTitle: "installs",
    days: span(DAYS),
    points: points(DAYS),
  },
  "stacked-bars": {
    kind: "stacked-bars",
    title: "Events by name",
    yTitle: "events",
    days: span(DAYS, true),
    points: points(DAYS),
  },
  bars: {
    kind: "bars",
    title: "Top errors",
    xTitle: "occurrences",
    bars: [
      { label: "KeyError: 'name' & <thing>", value: 40 },
      { label: LONG_LABEL, value: 1234 },
      { label: `${LONG_LABEL.slice(0, 45)} attempts`, value: 7 },
      { label: "short", value: 90 },
    ],
  },
};

const originalTz = process.env.TZ;
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

describe.each(Object.values(charts))("a $kind chart", (spec) => {
  it("is a standalone SVG document that GitHub shows as an image", async () => {
    const svg = await renderChart(spec);
    const root = documentOf(svg);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(root["@_xmlns"]).toBe(SVG_NS);
    expect(root["@_width"]).toBe(WIDTH);
    expect(root["@_viewBox"]).toBe(`0 0 ${String(root["@_width"])} ${String(root["@_height"])}`);
    expect(Number(root["@_height"])).toBeGreaterThan(100);
    expect(svg).toMatch(/^<svg[^>]*><rect width="720" height="\d+" fill="white"\/>/);
    expect(externalReferences(svg)).toEqual([]);
  });

  it("carries its title and every series or label, escaped", async () => {
    const svg = await renderChart(spec);
    const text = svgTexts(svg);
    expect(text).toContain(spec.title);
    const names = spec.kind === "bars" ? ["KeyError: 'name' & <thing>", "short"] : SERIES;
    for (const name of names) expect(text).toContain(name);
    expect(svg).not.toContain("<script");
    expect(svg).not.toMatch(/&(?!(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);)/i);
  });

  it("renders the same bytes every time, whatever ran before or beside it", async () => {
    const first = await renderChart(spec);
    const others = Object.values(charts).filter((other) => other !== spec);
    const [, again] = await Promise.all([renderChart(others[0]!), renderChart(spec), renderChart(others[1]!)]);
    expect(again).toBe(first);
    expect(await renderChart(spec)).toBe(first);
  });

  it('says "No data" when it has none', async () => {
    const none: ChartSpec = spec.kind === "bars" ? { ...spec, bars: [] } : { ...spec, points: [] };
    const svg = await renderChart(none);
    documentOf(svg);
    expect(svgTexts(svg)).toEqual(expect.arrayContaining([spec.title, "No data"]));
  });
});

describe("dates on the x axis", () => {
  const short: ChartSpec = {
    kind: "lines",
    title: "Three days",
    yTitle: "installs",
    days: span(3),
    points: points(3, ["a"]),
  };

  it("are UTC days, wherever the machine is", async () => {
    process.env.TZ = "UTC";
    const utc = await renderChart(short);
    for (const zone of ["America/New_York", "Pacific/Kiritimati"]) {
      process.env.TZ = zone;
      // Node reads TZ anew when it changes; were it not to, this test would prove nothing.
      expect(new Date(START).getHours()).not.toBe(0);
      expect(await renderChart(short)).toBe(utc);
    }
    const labels = svgTexts(utc);
    expect(labels).toEqual(expect.arrayContaining(["Jan 1", "Jan 2", "Jan 3", "Day (UTC)"]));
    expect(labels.some((label) => /Dec|\d:\d\d|AM|PM/.test(label))).toBe(false);
  });

  it("must be YYYY-MM-DD", async () => {
    const bad: ChartSpec = { ...short, points: [{ x: "2026-01-01T05:00:00Z", series: "a", y: 1 }] };
    await expect(renderChart(bad)).rejects.toThrow(/YYYY-MM-DD/);
  });
});

describe("bars", () => {
  it("are sorted by value, with long labels shortened whole, each its own", async () => {
    const text = svgTexts(await renderChart(charts.bars));
    const shortened = text.filter((label) => label.startsWith("ConnectionError"));
    expect(shortened).toEqual([
      "ConnectionError: could not connect to s…",
      "ConnectionError: could not connect to s… (2)",
    ]);
    const order = ["ConnectionError: could not connect to s…", "short", "KeyError: 'name' & <thing>"];
    expect(order.map((label) => text.indexOf(label))).toEqual([...order.map((label) => text.indexOf(label))].sort());
  });
});

describe("stacked bars", () => {
  it("stay small enough to commit every hour, over the dashboard's 30 days", async () => {
    const month: ChartSpec = {
      kind: "stacked-bars",
      title: "A month",
      yTitle: "events",
      days: span(30),
      points: points(30),
    };
    const svg = await renderChart(month);
    expect(Buffer.byteLength(svg)).toBeLessThan(64 * 1024);
  });
});

type Element = { [key: string]: unknown };

/** The document's root element, after checking that the whole is well-formed XML. */
function documentOf(svg: string): Element {
  expect(XMLValidator.validate(svg)).toBe(true);
  const document = parseSvg(svg) as Element;
  expect(Object.keys(document)).toEqual(["svg"]);
  return document.svg as Element;
}

/** Anything the image would load from elsewhere: GitHub's image proxy would drop it, or the image. */
function externalReferences(svg: string): string[] {
  return svg.match(/\bhref=|url\((?!#)|@import|@font-face|<image|<foreignObject|<script/gi) ?? [];
}
