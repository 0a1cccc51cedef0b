import { resolve } from "node:path";
import { HOUR_MS, systemClock } from "../lib/clock.ts";
import { ConfigError, type Config } from "../lib/config.ts";
import type { HealthAnswer } from "../lib/http/endpoints/report-health.ts";
import { DASHBOARD_README } from "../lib/insights/dashboard-files.ts";
import { messageOf } from "../lib/log.ts";
import { dashboardUpdatedAt } from "../lib/present/dashboard-readme.ts";
import { checkGitHubAccess, type Check } from "../lib/storage/check-github-access.ts";
import { GitHubAdapter } from "../lib/storage/github/github-adapter.ts";
import { GitHubFiles } from "../lib/storage/github/github-files.ts";
import { LocalFiles } from "../lib/storage/local/local-files.ts";
import type { RepositoryFiles } from "../lib/storage/repository-files.ts";
import { ago, healthCheck, lastFlushCheck, readSiteHealth, spoolCheck } from "./site/check-site.ts";

/** What the checks of GitHub may take, all of them. */
const GITHUB_BUDGET_MS = 30_000;
/** The dashboard is published hourly: events flushed this long before it are overdue. */
const PUBLISH_OVERDUE_MS = 2 * HOUR_MS;
/** The reasons of health that are the site's settings. */
const CONFIG_REASONS = new Set(["storage_not_configured", "service_misconfigured"]);

/**
 * Every check `telemetry doctor` makes, in order, a line each: the site and its health, the configuration
 * (this machine's, the site's, and whether they name the same repository), what GitHub lets the credential
 * do, the last flush and publish, the spool. A check whose source could not be read is left out: the line
 * that failed says why.
 */
export async function diagnose(site: string, config: Config | ConfigError): Promise<Check[]> {
  const key = config instanceof ConfigError ? undefined : config.flushKey;
  const { site: reached, health } = await readSiteHealth(site, key);
  const checks: Check[] = [reached];
  if (health) checks.push(healthCheck(health));
  checks.push(configurationCheck(config, health));
  if (config instanceof ConfigError) return [...checks, ...(health ? siteState(health) : [])];

  const deadline = systemClock.now() + GITHUB_BUDGET_MS;
  let files: RepositoryFiles | undefined;
  if (config.storage.kind === "github") {
    const github = new GitHubAdapter(config.storage.github, systemClock);
    const access = await checkGitHubAccess(github, { deadline, history: config.history });
    checks.push(...access);
    if (access.find((check) => check.name === "repository")?.ok) files = new GitHubFiles(github);
  } else if (health?.storage === "github") {
    checks.push({
      name: "GitHub credential",
      ok: false,
      detail:
        "not checked: the site stores in GitHub; set GITHUB_TOKEN (or the app's settings) here and name the repository with --github",
    });
  } else {
    files = new LocalFiles(resolve(config.storage.dir));
  }
  const flush = health && lastFlushCheck(health, systemClock.now());
  if (flush) checks.push(flush);
  if (files) checks.push(await publishCheck(files, health, deadline));
  const spool = health && spoolCheck(health);
  if (spool) checks.push(spool);
  return checks;
}

function siteState(health: HealthAnswer): Check[] {
  return [lastFlushCheck(health, systemClock.now()), spoolCheck(health)].filter((check) => check !== undefined);
}

/** This machine's settings load; the site reports none of its own refused; both name the same repository. */
function configurationCheck(config: Config | ConfigError, health: HealthAnswer | undefined): Check {
  if (config instanceof ConfigError)
    return { name: "configuration", ok: false, detail: `this machine's settings are refused: ${config.message}` };
  const refused = health?.reasons.filter((reason) => CONFIG_REASONS.has(reason.reason)) ?? [];
  if (refused.length > 0) {
    const messages = refused.map((reason) => reason.message).join("; ");
    return { name: "configuration", ok: false, detail: `the site's settings are refused: ${messages}` };
  }
  if (config.storage.kind === "local") return { name: "configuration", ok: true, detail: here(config) };
  const checked = `${config.storage.github.owner}/${config.storage.github.repo}`;
  if (health?.repository !== undefined && health.repository.toLowerCase() !== checked.toLowerCase()) {
    return {
      name: "configuration",
      ok: false,
      detail: `the site stores events in ${health.repository}, this checks ${checked}: name it with --github ${health.repository}`,
    };
  }
  if (!health) return { name: "configuration", ok: true, detail: here(config) };
  const site =
    health.repository === undefined
      ? "the site's repository is not shown (it is, with the jobs' key: TELEMETRY_ADMIN_KEY or the same GitHub credential)"
      : "the site stores in the same repository";
  return { name: "configuration", ok: true, detail: `${here(config)}; ${site}` };
}

function here(config: Config): string {
  if (config.storage.kind === "local") return `this machine reads the local store in ${config.storage.dir}`;
  const { owner, repo, credentials } = config.storage.github;
  return `this machine checks ${owner}/${repo} with ${credentials.kind === "token" ? "a token" : "a GitHub App"}`;
}

/** When the dashboard was last published, and whether events stored since wait for it longer than the hourly job explains. */
async function publishCheck(files: RepositoryFiles, health: HealthAnswer | undefined, deadline: number) {
  let readme: Buffer | undefined;
  try {
    readme = await files.read(DASHBOARD_README, { deadline });
  } catch (error) {
    return { name: "last publish", ok: false, detail: `${DASHBOARD_README} could not be read: ${messageOf(error)}` };
  }
  const published = readme && dashboardUpdatedAt(readme.toString("utf8"));
  const flushed = health?.spool?.last_flush?.at;
  const now = systemClock.now();
  const overdue =
    flushed !== undefined && Date.parse(flushed) - (published ? Date.parse(published) : 0) > PUBLISH_OVERDUE_MS;
  if (overdue) {
    return {
      name: "last publish",
      ok: false,
      detail: `${published ? `${published} (${ago(now - Date.parse(published))})` : "never"}, though events were stored at ${flushed}: the hourly publish-insights job does not run or fails; see its log, or run telemetry publish`,
    };
  }
  const detail = published
    ? `${published} (${ago(now - Date.parse(published))}), in ${DASHBOARD_README}`
    : "no dashboard yet: the hourly job writes it once events are stored (telemetry publish runs it now)";
  return { name: "last publish", ok: true, detail };
}
