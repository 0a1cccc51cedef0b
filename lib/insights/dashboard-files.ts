import type { FlushState } from "../spool/flush-lease.ts";
import type { FileChange } from "../storage/repository-files.ts";
import { DASHBOARD_MARKER, type IngestStatus } from "../present/dashboard-readme.ts";
import type { DayTally } from "../present/period-report.ts";
import { PERIOD_DAYS, renderDashboard } from "../present/render-dashboard.ts";
import { addDays } from "../day.ts";

const DASHBOARD_DIR = "dashboard";
/** The dashboard's own README, always written (the root one only when the repository has none of its own). */
export const DASHBOARD_README = `${DASHBOARD_DIR}/README.md`;
/** GitHub shows the root README on the repository's page: written only when there is none, or it is ours. */
export const ROOT_README = "README.md";

/** The first day the dashboard shows (its two periods of 30 days, the last ending `today`). */
export function dashboardStart(today: string): string {
  return addDays(today, -(2 * PERIOD_DAYS - 1));
}

export interface DashboardInput {
  /** The days of the dashboard's two periods, each from its rollup or as read this run. */
  days: readonly DayTally[];
  today: string;
  updatedAt: string;
  /** The flusher's state, for the ingest section; none without a spool. */
  state: FlushState | undefined;
  /** The root README as the branch holds it (undefined: none). */
  rootReadme: string | undefined;
}

/**
 * The dashboard's files from the days' tallies, as one commit writes them: the folder, and the root
 * README when there is none or it is ours. The hourly job writes them, and an erasure that changed
 * what a rollup kept of an install, so that no file at the head shows what it forgot.
 */
export async function dashboardFiles({
  days,
  today,
  updatedAt,
  state,
  rootReadme,
}: DashboardInput): Promise<FileChange[]> {
  const status = state && statusOf(state);
  const dashboard = await renderDashboard(days, { today, updatedAt, ...(status ? { status } : {}) });
  const changes: FileChange[] = dashboard.files.map((file) => ({
    path: `${DASHBOARD_DIR}/${file.name}`,
    content: file.content,
  }));
  if (rootReadme === undefined || rootReadme.startsWith(DASHBOARD_MARKER)) {
    changes.push({ path: ROOT_README, content: dashboard.readme(`${DASHBOARD_DIR}/`) });
  }
  return changes;
}

function statusOf(state: FlushState): IngestStatus {
  return {
    dropped: state.dropped,
    quarantined: state.quarantined,
    lastFlush: state.last_flush && {
      at: state.last_flush.at,
      events: state.last_flush.events,
      error: state.last_flush.error,
    },
    lastStoredAt: state.stored_at > 0 ? new Date(state.stored_at).toISOString() : null,
    tokenExpiresAt: state.token_expires_at === null ? null : new Date(state.token_expires_at).toISOString(),
  };
}
