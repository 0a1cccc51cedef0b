import type { TopLevelSpec } from "vega-lite";

/** A chart's outer width: narrower than GitHub's README column, so that it is shown at its own size. */
const WIDTH = 720;
/** Opaque, so that the dark text stays readable on GitHub's dark theme. */
const BACKGROUND = "white";
/** A family every viewer has: a web font would be an external reference that GitHub's image proxy drops. */
const FONT = "sans-serif";
const NO_DATA = "No data";

/** Every axis of the dashboard counts things (installs, events): its ticks are whole numbers, never half an install. */
export const COUNT_AXIS = { tickMinStep: 1, format: ",d" } as const;

/** What every chart shares: size, background, font, title and the line under it. */
export function chartFrame(title: string, height: number, subtitle?: string) {
  return {
    width: WIDTH,
    height,
    autosize: { type: "fit", contains: "padding" },
    background: BACKGROUND,
    title: { text: title, anchor: "start", ...(subtitle && { subtitle, subtitleColor: "#555" }) },
    config: { font: FONT },
  } as const;
}

/** A chart with nothing to show says so, at the size it would have. */
export function noDataChart(title: string, height: number): TopLevelSpec {
  return {
    ...chartFrame(title, height),
    data: { values: [{}] },
    mark: { type: "text", text: NO_DATA, fontSize: 16, color: "#666" },
    encoding: { x: { value: WIDTH / 2 }, y: { value: height / 2 } },
  };
}
