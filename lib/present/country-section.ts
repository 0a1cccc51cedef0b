import type { PeriodReport } from "./period-report.ts";
import type { ChartSpec } from "./charts/render-chart.ts";
import { tableRow, wholeCount } from "./table-row.ts";

/** Countries a table and a chart name; the rest are counted in a line under the table. */
const TOP_COUNTRIES = 15;
const UNKNOWN = "unknown";

/** The period's countries, the unknown one among them wherever it ranks: it is never left out of the table. */
function topCountries(current: PeriodReport): PeriodReport["countries"] {
  const top = current.countries.slice(0, TOP_COUNTRIES);
  const unknown = current.countries.find((c) => c.country === UNKNOWN);
  return unknown && !top.includes(unknown) ? [...top, unknown] : top;
}

/** The README's countries: the top ones with their installs and sessions, as Netlify's edge placed each caller. */
export function countrySection(current: PeriodReport): string[] {
  if (current.countries.length === 0) return ["## Countries", "", "No events in the last 30 days."];
  const shown = topCountries(current);
  const more = current.countries.length - shown.length;
  return [
    "## Countries",
    "",
    "The caller's country as Netlify's edge placed it (a two-letter code; no address, city or region is kept). An install seen from two countries counts in both. *unknown*: events stored before countries were kept, with `TELEMETRY_GEO=off`, or of a caller the edge could not place.",
    "",
    "| country | installs | sessions |",
    "|---|---:|---:|",
    ...shown.map((c) => tableRow([c.country, wholeCount(c.installs), wholeCount(c.sessions)])),
    ...(more > 0 ? ["", `And ${more} more ${more === 1 ? "country" : "countries"}.`] : []),
  ];
}

/** The ranked bars of the top countries' installs, in the style of the operating systems' chart. */
export function countryChart(current: PeriodReport): [name: string, spec: ChartSpec] {
  return [
    "countries.svg",
    {
      kind: "bars",
      title: "Countries: installs in the last 30 days",
      xTitle: "installs",
      bars: current.countries.slice(0, TOP_COUNTRIES).map((c) => ({ label: c.country, value: c.installs })),
    },
  ];
}
