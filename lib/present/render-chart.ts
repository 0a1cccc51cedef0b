import type * as Vega from "vega";
import type { ViewOptions } from "vega";
import type { compile as compileVegaLite, TopLevelSpec } from "vega-lite";
import { DAY_MS, startOfDay } from "../day.ts";
import { log } from "../log.ts";

/** A chart's outer size: narrower than GitHub's README column, so that it is shown at its own size. */
const WIDTH = 720;
const HEIGHT = 360;
/** A bar chart grows by one row a bar instead, so that bars keep one thickness; the chrome is its title and axis. */
const BAR_ROW = 22;
const BARS_CHROME = 64;
/** Room past the longest bar for its value. */
const VALUE_HEADROOM = 1.12;
const EMPTY_BARS_HEIGHT = 160;
/** Opaque, so that the dark text stays readable on GitHub's dark theme. */
const BACKGROUND = "white";
/** A family every viewer has: a web font would be an external reference that GitHub's image proxy drops. */
const FONT = "sans-serif";
const LABEL_MAX_CHARS = 40;
const ELLIPSIS = "…";
/** Wide enough for a label of LABEL_MAX_CHARS (and a " (2)" that tells two apart), so that the axis does not cut one. */
const BAR_LABEL_LIMIT_PX = 380;
const LEGEND_LABEL_LIMIT_PX = 200;
const X_TITLE = "Day (UTC)";
const NO_DATA = "No data";
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** About this many dated ticks: d3 then picks days, weeks or months, each a UTC midnight. */
const DATE_TICKS = 8;
/** Under this many days d3 would tick at noon or 6 am instead; whole days are asked for. */
const SHORT_RANGE_DAYS = 8;
/** Colour schemes by how many series they tell apart. */
const SCHEME = "tableau10";
const WIDE_SCHEME = "tableau20";
const SCHEME_SIZE = 10;
/** vega-util's number for its warning level: a logger at this level or above keeps warnings. */
const WARN_LEVEL = 2;
/** Vega's size for text that names none. */
const DEFAULT_FONT_PX = 11;
const BOLD = 1.1;
/** Glyph widths in em by kind of character, each a little over DejaVu Sans's. */
const GLYPH_EM: readonly [RegExp, number][] = [
  [/[ijlI.,:;'|!]/, 0.32],
  [/[ frt()[\]{}\/\\"`-]/, 0.42],
  [/[mwMW@%]/, 0.95],
  [/[A-Z]/, 0.74],
  [/[0-9a-z]/, 0.64],
  [/[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]/, 1],
];
const OTHER_GLYPH_EM = 0.7;

type Point = { x: string /* YYYY-MM-DD */; series: string; y: number };

/**
 * A chart for the dashboard: daily series as lines or stacked areas, or a ranking as horizontal
 * bars. Series keep the order they first appear in, in the legend and the stack (the first on top),
 * so that the caller can rank them and put "other" last.
 */
export type ChartSpec =
  | { kind: "lines"; title: string; yTitle: string; points: Point[] }
  | { kind: "stacked-area"; title: string; yTitle: string; points: Point[] }
  | { kind: "bars"; title: string; xTitle: string; bars: { label: string; value: number }[] };

/** One row as the charts read it: the day as UTC midnight in milliseconds, never a local date. */
type Row = { day: number; series: string; rank: number; y: number };

/** What Vega asks of a text mark to measure it. */
type TextItem = { fontSize?: number; fontWeight?: string | number; limit?: number };

let engines: Promise<{ vega: typeof Vega; compile: typeof compileVegaLite }> | undefined;

/**
 * Vega and Vega-Lite, imported on first use as ES modules: vega's canvas probe awaits at its top
 * level, which the functions' CommonJS bundle cannot hold, so netlify.toml leaves them out of it.
 */
function loadEngines() {
  return (engines ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vegaLite]) => {
    // Text is measured by an estimate, never with a canvas and the system's fonts, so that every machine
    // lays a chart out alike. Vega's own estimate (0.8 em a character) leaves a third of the room that
    // axis labels take empty; this one is near the widest common sans-serif (DejaVu Sans) instead.
    (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics.width =
      textWidth;
    return { vega, compile: vegaLite.compile };
  }));
}

/** Renders run one at a time: the ids of the SVG's clip paths come from a counter shared by all views. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * A standalone SVG document of the chart, byte-identical for the same spec: the dashboard is
 * committed hourly, and a chart whose data did not change must not make a new blob. Dates are
 * days in UTC; an empty chart says "No data".
 */
export async function renderChart(spec: ChartSpec): Promise<string> {
  const run = queue.then(() => toSvg(vegaLiteOf(spec)));
  queue = run.catch(() => undefined);
  return run;
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, compile } = await loadEngines();
  const logger = chartLogger();
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), { renderer: "none", logger });
  try {
    vega.resetSVGDefIds();
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Vega only logs what fails while it runs a view; this makes the render fail instead, and keeps warnings in the log. */
function chartLogger(): NonNullable<ViewOptions["logger"]> {
  let level = WARN_LEVEL;
  const logger = {
    level(next?: number) {
      if (next === undefined) return level;
      level = next;
      return logger;
    },
    error(...args: unknown[]): never {
      throw args.find((arg) => arg instanceof Error) ?? new Error(args.map(String).join(" "));
    },
    warn(...args: unknown[]) {
      if (level >= WARN_LEVEL) log("warn", "chart_warning", { message: args.map(String).join(" ") });
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

function vegaLiteOf(spec: ChartSpec): TopLevelSpec {
  if (spec.kind === "bars") return spec.bars.length === 0 ? empty(spec.title, EMPTY_BARS_HEIGHT) : bars(spec);
  return spec.points.length === 0 ? empty(spec.title, HEIGHT) : series(spec);
}

/** What every chart shares: size, background, font and title. */
function frame(title: string, height: number) {
  return {
    width: WIDTH,
    height,
    autosize: { type: "fit", contains: "padding" },
    background: BACKGROUND,
    title: { text: title, anchor: "start" },
    config: { font: FONT },
  } as const;
}

function empty(title: string, height: number): TopLevelSpec {
  return {
    ...frame(title, height),
    data: { values: [{}] },
    mark: { type: "text", text: NO_DATA, fontSize: 16, color: "#666" },
    encoding: { x: { value: WIDTH / 2 }, y: { value: height / 2 } },
  };
}

function series(spec: Extract<ChartSpec, { kind: "lines" | "stacked-area" }>): TopLevelSpec {
  const stacked = spec.kind === "stacked-area";
  const rows = stacked ? filledDays(rowsOf(spec.points)) : rowsOf(spec.points);
  const names = [...new Set(rows.map((row) => row.series))];
  // A line needs two days to be seen at all; a series with one is drawn as points.
  const lonely = names.some((name) => rows.filter((row) => row.series === name).length === 1);
  const days = rows.map((row) => row.day);
  const first = Math.min(...days);
  const last = Math.max(...days);
  const spanDays = Math.round((last - first) / DAY_MS);
  const oneYear = new Date(first).getUTCFullYear() === new Date(last).getUTCFullYear();
  return {
    ...frame(spec.title, HEIGHT),
    data: { values: rows },
    mark: stacked ? { type: "area", line: false } : { type: "line", point: lonely },
    encoding: {
      x: {
        field: "day",
        type: "temporal",
        timeUnit: "utcyearmonthdate",
        title: X_TITLE,
        axis: {
          format: oneYear ? "%b %-d" : "%b %-d, %Y",
          labelOverlap: true,
          tickCount:
            spanDays < SHORT_RANGE_DAYS
              ? { interval: "day", step: Math.max(1, Math.ceil(spanDays / DATE_TICKS)) }
              : DATE_TICKS,
        },
      },
      y: { field: "y", type: "quantitative", title: spec.yTitle, ...(stacked && { stack: "zero" }) },
      color: {
        field: "series",
        type: "nominal",
        scale: { domain: names, scheme: names.length > SCHEME_SIZE ? WIDE_SCHEME : SCHEME },
        legend: { title: null, labelLimit: LEGEND_LABEL_LIMIT_PX },
      },
      // The first series on top of the stack, as it is on top of the legend.
      ...(stacked && { order: { field: "rank", sort: "descending" } }),
    },
  };
}

function rowsOf(points: Point[]): Row[] {
  const ranks = new Map<string, number>();
  return points.map(({ x, series, y }) => {
    if (!ranks.has(series)) ranks.set(series, ranks.size);
    return { day: parseDay(x), series, rank: ranks.get(series)!, y };
  });
}

/**
 * Every series on every day of the range, a missing day as 0 and a repeated one summed: an area
 * drawn across a gap would stack the series above it on a value that was never there.
 */
function filledDays(rows: Row[]): Row[] {
  const days = rows.map((row) => row.day);
  const first = Math.min(...days);
  const last = Math.max(...days);
  const totals = new Map<string, number>();
  for (const row of rows) totals.set(`${row.rank}/${row.day}`, (totals.get(`${row.rank}/${row.day}`) ?? 0) + row.y);
  const names = [...new Map(rows.map((row) => [row.rank, row.series]))].sort(([a], [b]) => a - b);
  return names.flatMap(([rank, series]) =>
    Array.from({ length: Math.round((last - first) / DAY_MS) + 1 }, (_, i) => {
      const day = first + i * DAY_MS;
      return { day, series, rank, y: totals.get(`${rank}/${day}`) ?? 0 };
    }),
  );
}

function parseDay(x: string): number {
  const day = DATE.test(x) ? startOfDay(x) : NaN;
  if (Number.isNaN(day)) throw new Error(`a chart's day must be YYYY-MM-DD, not ${JSON.stringify(x)}`);
  return day;
}

function bars(spec: Extract<ChartSpec, { kind: "bars" }>): TopLevelSpec {
  // Sorted here, not by Vega-Lite, so that ties fall in one order on every run.
  const sorted = [...spec.bars].sort(
    (a, b) => b.value - a.value || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
  );
  const values = distinct(sorted.map((bar) => shortened(bar.label))).map((label, i) => ({
    label,
    value: sorted[i]!.value,
  }));
  return {
    ...frame(spec.title, values.length * BAR_ROW + BARS_CHROME),
    data: { values },
    encoding: {
      y: { field: "label", type: "nominal", sort: null, axis: { title: null, labelLimit: BAR_LABEL_LIMIT_PX } },
      x: {
        field: "value",
        type: "quantitative",
        title: spec.xTitle,
        // The last tick's label ends at the edge instead of running past it.
        axis: { labelFlush: true },
        scale: { domainMax: Math.max(0, ...values.map((bar) => bar.value)) * VALUE_HEADROOM },
      },
    },
    layer: [
      { mark: { type: "bar", color: "#4c78a8" } },
      { mark: { type: "text", align: "left", dx: 3 }, encoding: { text: { field: "value", format: ",~f" } } },
    ],
  };
}

function shortened(label: string): string {
  const chars = [...label];
  if (chars.length <= LABEL_MAX_CHARS) return label;
  const head = chars.slice(0, LABEL_MAX_CHARS - 1).join("");
  return head.trimEnd() + ELLIPSIS;
}

/** Labels that shortening (or the caller) made equal would fall into one bar; each keeps its own. */
function distinct(labels: string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    return count === 1 ? label : `${label} (${count})`;
  });
}

/** A text's width in pixels, at most its mark's limit (past which Vega cuts it with an ellipsis). */
function textWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize ?? DEFAULT_FONT_PX;
  const weight = item.fontWeight === "bold" || Number(item.fontWeight) >= 600 ? BOLD : 1;
  let em = 0;
  for (const char of labelOf(text).trim()) em += GLYPH_EM.find(([kind]) => kind.test(char))?.[1] ?? OTHER_GLYPH_EM;
  const width = em * size * weight;
  return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
}

/** A text mark's text as Vega draws it: a string, a number, or lines. */
function labelOf(text: unknown): string {
  if (Array.isArray(text)) return text.map(labelOf).join(",");
  return typeof text === "string" || typeof text === "number" ? String(text) : "";
}
