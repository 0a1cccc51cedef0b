import type { TopLevelSpec } from "vega-lite";
import { DAY_MS, startOfDay } from "../../day.ts";
import { chartFrame, COUNT_AXIS, noDataChart } from "./chart-frame.ts";

const HEIGHT = 360;
const X_TITLE = "Day (UTC)";
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** About this many dated ticks: d3 then picks days, weeks or months, each a UTC midnight. */
const DATE_TICKS = 8;
/** Under this many days d3 would tick at noon or 6 am instead; whole days are asked for. */
const SHORT_RANGE_DAYS = 8;
/** A day's bar fills this much of its day, so that neighbours stay apart. */
const BAR_SHARE = 0.8;
/** Colour schemes by how many series they tell apart. */
const SCHEME = "tableau10";
const WIDE_SCHEME = "tableau20";
const SCHEME_SIZE = 10;
const LEGEND_LABEL_LIMIT_PX = 260;
/** Point areas in square pixels, of the first series and the last. */
const POINT_LARGEST = 140;
const POINT_SMALLEST = 30;
const PARTIAL = "today so far";
const PARTIAL_FILL = "#e8e8e8";
const PARTIAL_TEXT = "#666";

type Point = { x: string /* YYYY-MM-DD */; series: string; y: number };

/**
 * Daily series as lines (each day a point, each series its own colour, dash and shape, so that
 * equal lines stay told apart) or as stacked bars (one day of data is a bar, never an area of no
 * width). The x axis spans `days` whatever days have data, so that every time chart shows the same
 * days; when the last is `partial` (today) it is shaded and labelled "today so far". Series keep
 * the order they first appear in, in the legend and the stack (the first on top), so that the
 * caller can rank them and put "other" last.
 */
export type TimeChartSpec = {
  kind: "lines" | "stacked-bars";
  title: string;
  yTitle: string;
  days: { from: string; to: string; partial: boolean };
  points: Point[];
};

type Layers = NonNullable<Extract<TopLevelSpec, { layer: unknown }>["layer"]>;

/** One row as the charts read it: the day as UTC midnight in milliseconds, never a local date. */
type Row = {
  day: number;
  start: number;
  end: number;
  series: string;
  rank: number;
  y: number;
  description: string;
  /** No day of its series beside it: no line reaches it. */
  alone: boolean;
};

export function timeChart(spec: TimeChartSpec): TopLevelSpec {
  if (spec.points.length === 0) return noDataChart(spec.title, HEIGHT);
  const from = parseDay(spec.days.from);
  const to = parseDay(spec.days.to);
  const rows = rowsOf(spec.points).filter((row) => row.day >= from && row.day <= to);
  const names = [...new Set(rows.map((row) => row.series))];
  const spanDays = Math.round((to - from) / DAY_MS);
  const oneYear = new Date(from).getUTCFullYear() === new Date(to).getUTCFullYear();
  const format = oneYear ? "%b %-d" : "%b %-d, %Y";
  const scale = { domain: names, scheme: names.length > SCHEME_SIZE ? WIDE_SCHEME : SCHEME } as const;
  const legend = { title: null, labelLimit: LEGEND_LABEL_LIMIT_PX } as const;
  const bars = spec.kind === "stacked-bars";
  const y = { field: "y", type: "quantitative", title: spec.yTitle, axis: COUNT_AXIS } as const;
  const color = { field: "series", type: "nominal", scale, legend } as const;
  // Only the first layer, an unseen one, names the x scale: Vega-Lite takes two equal explicit domains
  // (as a bar's x2 repeats its x's) for a conflict.
  const span = {
    data: { values: [{ day: from }, { day: to }] },
    mark: { type: "rule", opacity: 0, aria: false },
    encoding: {
      x: {
        field: "day",
        type: "temporal",
        title: X_TITLE,
        // Half a day either side, so that the first and last days' bars and points sit inside the frame.
        scale: { type: "utc", domain: [from - DAY_MS / 2, to + DAY_MS / 2] },
        axis: {
          format,
          labelOverlap: true,
          description: `X-axis titled '${X_TITLE}' for the ${spanDays + 1} days from ${spelled(from)} to ${spelled(to)}`,
          tickCount:
            spanDays < SHORT_RANGE_DAYS
              ? { interval: "day", step: Math.max(1, Math.ceil(spanDays / DATE_TICKS)) }
              : DATE_TICKS,
        },
      },
    },
  };
  return {
    ...chartFrame(spec.title, HEIGHT, spec.days.partial ? "Shaded: today (UTC), a day not over yet." : undefined),
    layer: [
      span,
      ...(spec.days.partial ? partialDay(to) : []),
      ...(bars ? stackedBars(rows, y, color) : lines(rows, y, color, names)),
    ] as Layers,
  };
}

type Encoding = Record<string, unknown>;

/** The days' bars, each series stacked on the next, the first on top as it is on top of the legend. */
function stackedBars(rows: Row[], y: Encoding, color: Encoding): Layers {
  return [
    {
      data: { values: rows },
      // Upright: a bar with x and x2 would otherwise be read as lying down.
      mark: { type: "bar", orient: "vertical" },
      encoding: {
        x: { field: "start", type: "temporal" },
        x2: { field: "end" },
        y: { ...y, stack: "zero" },
        color,
        // Short, as a screen reader says each mark: a chart of many bars stays small.
        description: { field: "description" },
        order: { field: "rank", sort: "descending" },
      },
    },
  ] as Layers;
}

/**
 * A line a series, each day a point: a series of one day is seen at all. Each series has its own
 * colour, dash and shape, and the first the largest points, drawn first: two equal lines still show
 * both, a dash over a line and a point inside a point.
 */
function lines(rows: Row[], y: Encoding, color: Encoding, names: string[]): Layers {
  const bySeries = { field: "series", type: "nominal", scale: { domain: names }, legend: color.legend };
  const size = {
    field: "rank",
    type: "quantitative",
    scale: { domain: [0, Math.max(1, names.length - 1)], range: [POINT_LARGEST, POINT_SMALLEST] },
    legend: null,
  };
  const x = { field: "day", type: "temporal" };
  const description = { field: "description" };
  return [
    { data: { values: rows }, mark: { type: "line" }, encoding: { x, y, color, strokeDash: bySeries, description } },
    {
      data: { values: rows },
      // A day of nothing needs no marker where a line says it; a day alone has no line to.
      transform: [{ filter: "datum.y > 0 || datum.alone" }],
      mark: { type: "point", filled: true, opacity: 1 },
      encoding: { x, y, color, shape: bySeries, size, description },
    },
  ] as Layers;
}

/** The shaded band over the last day, and its label, behind the data. */
function partialDay(day: number): Layers {
  const band = { day, start: day - DAY_MS / 2, end: day + DAY_MS / 2, label: PARTIAL };
  return [
    {
      data: { values: [band] },
      mark: { type: "rect", color: PARTIAL_FILL },
      encoding: {
        x: { field: "start", type: "temporal" },
        x2: { field: "end" },
        description: { value: `${spelled(day)}: ${PARTIAL}, a day not over yet` },
      },
    },
    {
      data: { values: [band] },
      // Above the plot, where no data is: its right end at the band's.
      mark: { type: "text", align: "right", baseline: "bottom", dy: -3, color: PARTIAL_TEXT },
      encoding: { x: { field: "end", type: "temporal" }, y: { value: 0 }, text: { field: "label" } },
    },
  ];
}

function rowsOf(points: Point[]): Row[] {
  const ranks = new Map<string, number>();
  const seen = new Set(points.map(({ x, series }) => `${series}/${parseDay(x)}`));
  return points.map(({ x, series, y }) => {
    if (!ranks.has(series)) ranks.set(series, ranks.size);
    const day = parseDay(x);
    const half = (DAY_MS * BAR_SHARE) / 2;
    const description = `${x}, ${series}: ${y.toLocaleString("en-US")}`;
    const alone = !seen.has(`${series}/${day - DAY_MS}`) && !seen.has(`${series}/${day + DAY_MS}`);
    return { day, start: day - half, end: day + half, series, rank: ranks.get(series)!, y, description, alone };
  });
}

function parseDay(x: string): number {
  const day = DATE.test(x) ? startOfDay(x) : NaN;
  if (Number.isNaN(day)) throw new Error(`a chart's day must be YYYY-MM-DD, not ${JSON.stringify(x)}`);
  return day;
}

/** "December 7, 2026", in UTC: what a screen reader says of the axis. */
function spelled(day: number): string {
  return new Date(day).toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}
