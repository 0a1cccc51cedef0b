import type * as Vega from "vega";
import type { ViewOptions } from "vega";
import type { compile as compileVegaLite, TopLevelSpec } from "vega-lite";
import { log } from "../../log.ts";
import { barChart, type BarChartSpec } from "./bar-chart.ts";
import { timeChart, type TimeChartSpec } from "./time-chart.ts";

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

/** A chart for the dashboard: daily series over a span of days, or a ranking as horizontal bars. */
export type ChartSpec = TimeChartSpec | BarChartSpec;

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

/** The chart as its Vega-Lite spec: what the SVG is rendered from, and what `telemetry serve` embeds. */
export function vegaLiteOf(spec: ChartSpec): TopLevelSpec {
  return spec.kind === "bars" ? barChart(spec) : timeChart(spec);
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
