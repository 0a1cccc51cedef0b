import { ConfigError } from "./config-error.ts";
import type { EnvVars } from "./env-schema.ts";

const DEFAULT_GITHUB_API_URL = "https://api.github.com";

/**
 * How the service signs in to GitHub: a personal access token, or a GitHub App's installation,
 * whose tokens last an hour and are minted again from the app's private key (no expiry to renew).
 */
export type GitHubCredentials =
  { kind: "token"; token: string } | { kind: "app"; appId: string; privateKey: string; installationId: number };

export interface GitHubConfig {
  credentials: GitHubCredentials;
  owner: string;
  repo: string;
  /** Undefined: the repository's default branch. */
  branch: string | undefined;
  apiUrl: string;
}

/**
 * The GitHub store's settings, when any GitHub variable is set (then every required one must be,
 * else `storage_not_configured` names what is missing); undefined when none is.
 */
export function githubStorage(vars: EnvVars): GitHubConfig | undefined {
  const [owner, repo] = vars.GITHUB_REPOSITORY
    ? vars.GITHUB_REPOSITORY.split("/")
    : [vars.GITHUB_REPO_OWNER, vars.GITHUB_REPO_NAME];
  const app = [vars.GITHUB_APP_ID, vars.GITHUB_APP_PRIVATE_KEY, vars.GITHUB_APP_INSTALLATION_ID];
  if (!(vars.GITHUB_TOKEN || app.some(Boolean) || owner || repo)) return undefined;

  const credentials = credentialsOf(vars);
  const missing = [
    ...("missing" in credentials ? credentials.missing : []),
    ...(owner && repo ? [] : ["GITHUB_REPOSITORY (owner/name, or GITHUB_REPO_OWNER and GITHUB_REPO_NAME)"]),
  ];
  if ("missing" in credentials || !owner || !repo) {
    throw new ConfigError(
      `GitHub storage is partly configured: set ${missing.join(" and ")}`,
      "storage_not_configured",
    );
  }
  return {
    credentials,
    owner,
    repo,
    branch: vars.GITHUB_BRANCH,
    apiUrl: (vars.GITHUB_API_URL ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, ""),
  };
}

/** A token, or a GitHub App's three settings (one of the two, whole); else what is missing. */
function credentialsOf(vars: EnvVars): GitHubCredentials | { missing: string[] } {
  const { GITHUB_TOKEN: token, GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY: privateKey } = vars;
  const installationId = vars.GITHUB_APP_INSTALLATION_ID;
  const appNamed = Boolean(appId || privateKey || installationId);
  if (token && appNamed) {
    throw new ConfigError(
      "Set either GITHUB_TOKEN or a GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID), not both",
    );
  }
  if (token) return { kind: "token", token };
  if (appId && privateKey && installationId) return { kind: "app", appId, privateKey, installationId };
  if (!appNamed) return { missing: ["GITHUB_TOKEN"] };
  const named = {
    GITHUB_APP_ID: appId,
    GITHUB_APP_PRIVATE_KEY: privateKey,
    GITHUB_APP_INSTALLATION_ID: installationId,
  };
  return { missing: Object.entries(named).flatMap(([name, value]) => (value ? [] : [name])) };
}
