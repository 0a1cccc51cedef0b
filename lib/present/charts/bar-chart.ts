import type { TopLevelSpec } from "vega-lite";
import { chartFrame, COUNT_AXIS, noDataChart } from "./chart-frame.ts";

/** A bar chart grows by one row a bar, so that bars keep one thickness; the chrome is its title and axis. */
const BAR_ROW = 22;
const BARS_CHROME = 64;
const SUBTITLE_ROW = 16;
/** Room past the longest bar for its value. */
const VALUE_HEADROOM = 1.12;
const EMPTY_BARS_HEIGHT = 160;
const LABEL_MAX_CHARS = 40;
const ELLIPSIS = "…";
/** Wide enough for a label of LABEL_MAX_CHARS (and a " (2)" that tells two apart), so that the axis does not cut one. */
const BAR_LABEL_LIMIT_PX = 380;
const BAR_COLOUR = "#4c78a8";
/** Errors stand out from the events around them. */
const HIGHLIGHT_COLOUR = "#e45756";

/** A ranking as horizontal bars; a `highlight`ed bar is drawn in its own colour, which the subtitle explains. */
export type BarChartSpec = {
  kind: "bars";
  title: string;
  subtitle?: string;
  xTitle: string;
  bars: { label: string; value: number; highlight?: boolean }[];
};

export function barChart(spec: BarChartSpec): TopLevelSpec {
  if (spec.bars.length === 0) return noDataChart(spec.title, EMPTY_BARS_HEIGHT);
  // Sorted here, not by Vega-Lite, so that ties fall in one order on every run.
  const sorted = [...spec.bars].sort(
    (a, b) => b.value - a.value || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
  );
  const values = distinct(sorted.map((bar) => shortened(bar.label))).map((label, i) => ({
    label,
    value: sorted[i]!.value,
    highlight: sorted[i]!.highlight === true,
  }));
  const height = values.length * BAR_ROW + BARS_CHROME + (spec.subtitle ? SUBTITLE_ROW : 0);
  return {
    ...chartFrame(spec.title, height, spec.subtitle),
    data: { values },
    encoding: {
      y: { field: "label", type: "nominal", sort: null, axis: { title: null, labelLimit: BAR_LABEL_LIMIT_PX } },
      x: {
        field: "value",
        type: "quantitative",
        title: spec.xTitle,
        // The last tick's label ends at the edge instead of running past it.
        axis: { labelFlush: true, ...COUNT_AXIS },
        scale: { domainMax: Math.max(0, ...values.map((bar) => bar.value)) * VALUE_HEADROOM },
      },
    },
    layer: [
      {
        mark: { type: "bar" },
        encoding: { color: { condition: { test: "datum.highlight", value: HIGHLIGHT_COLOUR }, value: BAR_COLOUR } },
      },
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
