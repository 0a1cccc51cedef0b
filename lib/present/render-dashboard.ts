import { addDays, dayOf, daysFrom } from "../day.ts";
import { dashboardCharts } from "./charts/dashboard-charts.ts";
import { dashboardReadme, MODEL_REGISTRY_FILE, type IngestStatus, type ReadDay } from "./dashboard-readme.ts";
import { periodReport } from "./period-report.ts";
import { renderChart } from "./charts/render-chart.ts";

/** The dashboard compares the last 30 days (today included) with the 30 before. */
export const PERIOD_DAYS = 30;

export interface DashboardFile {
  /** The file's name in the dashboard's folder. */
  name: string;
  content: string;
}

export interface RenderedDashboard {
  /** The dashboard's folder: its README.md, the charts it links to beside it, the model registry. */
  files: DashboardFile[];
  /** The README as shown from elsewhere, `linkBase` being the path from there to the folder ("dashboard/" from the root). */
  readme(linkBase: string): string;
}

/**
 * The dashboard, from the days' tallies (the hourly job's from the rollups, which outlive the raw
 * files; a local run's as each day was `read`): a README.md that GitHub
 * renders, the SVG charts it shows beside it (GitHub strips inline SVG but shows committed files),
 * and the model registry as JSON for the registry's maintainers to merge.
 */
export async function renderDashboard(
  days: readonly ReadDay[],
  { today, updatedAt, status }: { today: string; updatedAt: string; status?: IngestStatus },
): Promise<RenderedDashboard> {
  const periodStart = addDays(today, -(PERIOD_DAYS - 1));
  const previousEnd = addDays(periodStart, -1);
  const previousStart = addDays(previousEnd, -(PERIOD_DAYS - 1));
  const current = periodReport(days, periodStart, today);
  const previous = periodReport(days, previousStart, previousEnd);
  const byDay = new Map(days.map((d) => [d.day, d.tally]));
  const periodDays = daysFrom(periodStart, today);

  // Today, while it lasts, is a day so far: its charts mark it rather than show a fall. A period that
  // ends before today has no such day, nor one that ends after it: its last day has not begun.
  const partial = dayOf(new Date(updatedAt)) === today;
  const charts = dashboardCharts(current, periodDays, byDay, partial);
  const svgs = await Promise.all(charts.map(async ([name, spec]) => ({ name, content: await renderChart(spec) })));
  const registry = `${JSON.stringify({ updated_at: updatedAt, from: periodStart, to: today, models: current.models }, null, 2)}\n`;
  const figures = {
    days,
    byDay,
    current,
    previous,
    periodDays,
    today,
    previousEnd,
    updatedAt,
    status,
    charts,
    partial,
  };
  const readme = (linkBase: string) => dashboardReadme(figures, linkBase);
  return {
    files: [{ name: "README.md", content: readme("") }, ...svgs, { name: MODEL_REGISTRY_FILE, content: registry }],
    readme,
  };
}
