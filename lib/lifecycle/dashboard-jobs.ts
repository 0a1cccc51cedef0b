import { publishInsights } from "../insights/publish-insights.ts";
import { eraseInstalls } from "./erase-installs.ts";

/**
 * The jobs that draw the dashboard, and so load vega: a runtime is handed them (createRuntime's
 * `jobs`) by the functions that run them, so that the other functions' bundles leave vega out. Its
 * files are most of a bundle, and `netlify dev` traces every bundle before it answers a request.
 */
export const dashboardJobs = { publishInsights, eraseInstalls };

export type DashboardJobs = typeof dashboardJobs;
