import type { HistoryMode } from "../config.ts";
import { DAY_MS } from "../day.ts";
import { messageOf } from "../log.ts";
import type { GitHubAdapter, GitHubCall } from "./github/github-adapter.ts";
import { statusOf, type OctokitError } from "./github/octokit-error.ts";

/** One line of a diagnosis: what was checked, whether it is right, what was found and, when it is not right, what to do. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Health turns degraded this long before the token expires: the same warning here. */
const TOKEN_WARNING_MS = 7 * DAY_MS;
/** Ruleset rules that refuse a commit made straight to the branch through the API, as the service makes them. */
const BLOCKING_RULES: Record<string, string> = {
  pull_request: "changes through a pull request",
  required_status_checks: "status checks to pass",
  required_deployments: "deployments to succeed",
  required_signatures: "signed commits",
  merge_queue: "a merge queue",
  update: "that nobody updates the branch",
};
/** The route an app's installation token is minted on: a refusal there is the app's credential's. */
const MINT_ROUTE = /\/app\/installations\/\d+\/access_tokens/;

interface RepositoryData {
  full_name: string;
  private: boolean;
  default_branch: string;
  permissions?: { push?: boolean };
  security_and_analysis?: { secret_scanning_push_protection?: { status?: string } } | null;
}

/**
 * What GitHub lets the configured credential do with the data repository, a check a line: the credential
 * is taken, its expiry, the repository exists, the credential may write its contents, the branch does not
 * refuse the service's direct commits (classic protection and rulesets), push protection is on. Every
 * request goes through the instance's adapter; a check that cannot be made once an earlier one failed is
 * left out, the earlier one saying so.
 */
export async function checkGitHubAccess(
  github: GitHubAdapter,
  { deadline, history }: { deadline: number; history: HistoryMode },
): Promise<Check[]> {
  const call: GitHubCall = { deadline };
  const name = github.describe().split("@")[0]!;
  let repository: RepositoryData;
  try {
    ({ data: repository } = await github.client.rest.repos.get({
      ...github.repository(),
      request: github.request(call),
    }));
  } catch (error) {
    if (isCredentialRefusal(error)) return [credentialRefused(github, error)];
    if (statusOf(error) === undefined)
      return [{ name: "GitHub credential", ok: false, detail: `GitHub did not answer: ${messageOf(error)}` }];
    return [
      credentialTaken(github),
      expiry(github),
      {
        name: "repository",
        ok: false,
        detail: `${name} ${refusal(error)}: check GITHUB_REPOSITORY (or --github) and that the credential was given this repository`,
      },
    ];
  }
  const branch = github.config.branch ?? repository.default_branch;
  return [
    credentialTaken(github),
    expiry(github),
    {
      name: "repository",
      ok: true,
      detail: `${repository.full_name} (${repository.private ? "private" : "public"}, default branch ${repository.default_branch})`,
    },
    writeAccess(repository),
    await branchCheck(github, call, branch, history).catch((error: unknown): Check => ({
      name: "branch",
      ok: false,
      detail: `${branch} could not be read: GitHub ${refusal(error)}`,
    })),
    pushProtection(repository),
  ];
}

function isCredentialRefusal(error: unknown): boolean {
  const url = (error as { request?: { url?: unknown } } | undefined)?.request?.url;
  return statusOf(error) === 401 || (typeof url === "string" && MINT_ROUTE.test(url));
}

function credentialRefused(github: GitHubAdapter, error: unknown): Check {
  const { credentials } = github.config;
  const fix =
    credentials.kind === "token"
      ? "the token is revoked, expired or mistyped: make a new one (Contents: read and write on the data repository) and set GITHUB_TOKEN"
      : "check GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY (the app's current key) and GITHUB_APP_INSTALLATION_ID (the app installed on the data repository)";
  return {
    name: "GitHub credential",
    ok: false,
    detail: `GitHub ${refusal(error)}: ${fix} (the repository is checked once it is taken)`,
  };
}

function credentialTaken({ config: { credentials } }: GitHubAdapter): Check {
  const detail =
    credentials.kind === "token"
      ? "GitHub takes the token (GITHUB_TOKEN)"
      : `GitHub takes the app ${credentials.appId}'s installation ${credentials.installationId}`;
  return { name: "GitHub credential", ok: true, detail };
}

function expiry(github: GitHubAdapter): Check {
  if (github.config.credentials.kind === "app") {
    return {
      name: "token expiry",
      ok: true,
      detail: "an app's installation tokens last an hour and are minted again from its key: nothing to renew",
    };
  }
  const expiresAt = github.credentialsExpireAt();
  if (expiresAt === null) return { name: "token expiry", ok: true, detail: "GitHub gives the token no expiry" };
  const left = expiresAt - github.clock.now();
  const when = `${new Date(expiresAt).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  if (left <= 0)
    return { name: "token expiry", ok: false, detail: `expired at ${when}: make a new token, or use a GitHub App` };
  const days = `in ${Math.floor(left / DAY_MS)} days`;
  return left < TOKEN_WARNING_MS
    ? { name: "token expiry", ok: false, detail: `expires at ${when} (${days}): renew it, or use a GitHub App` }
    : { name: "token expiry", ok: true, detail: `expires at ${when} (${days}); health warns 7 days before` };
}

function writeAccess(repository: RepositoryData): Check {
  const push = repository.permissions?.push;
  if (push === false) {
    return {
      name: "write access",
      ok: false,
      detail: `the credential may only read ${repository.full_name}: give the token Contents: read and write (an app: Repository permissions → Contents: Read and write, then accept it on the installation)`,
    };
  }
  const detail =
    push === true
      ? "the credential may write the repository's contents"
      : "GitHub did not say what the credential may do; a refused write shows in health as writes_refused";
  return { name: "write access", ok: true, detail };
}

/** Whether the branch exists (or the repository is empty and the first flush creates it), and whether its protection or rulesets refuse the service's commits. */
async function branchCheck(
  github: GitHubAdapter,
  call: GitHubCall,
  branch: string,
  history: HistoryMode,
): Promise<Check> {
  const at = { ...github.repository(), branch, request: github.request(call) };
  let isProtected: boolean;
  try {
    isProtected = (await github.client.rest.repos.getBranch(at)).data.protected;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    return github.config.branch === undefined
      ? { name: "branch", ok: true, detail: `${branch} has no commit yet: the first flush creates it` }
      : {
          name: "branch",
          ok: false,
          detail: `no branch ${branch}: create it, or set GITHUB_BRANCH to one that exists`,
        };
  }
  const refusals: string[] = [];
  if (isProtected) {
    try {
      const { data } = await github.client.rest.repos.getBranchProtection({ ...at, request: github.request(call) });
      refusals.push(...protectionRefusals(data, history));
    } catch (error) {
      if (statusOf(error) !== 404 && statusOf(error) !== 403) throw error;
      refusals.push("protected, and only an admin may see how: make sure its protection lets the service commit");
    }
  }
  const types = new Set<string>((await branchRules(github, call, branch)).map((rule) => rule.type));
  if (history === "squash" && types.has("non_fast_forward"))
    refusals.push("a ruleset refuses force pushes (TELEMETRY_HISTORY=squash needs one)");
  for (const type of types) {
    const refused = BLOCKING_RULES[type];
    if (refused) refusals.push(`a ruleset requires ${refused}`);
  }
  if (refusals.length === 0) {
    const how = isProtected ? "protected, its protection lets direct commits through" : "not protected";
    return { name: "branch", ok: true, detail: `${branch}: ${how}, and no ruleset rule refuses the service's commits` };
  }
  return {
    name: "branch",
    ok: false,
    detail: `${branch}: ${refusals.join("; ")}: the service commits straight to the branch; let the token's user or the app bypass it, or point GITHUB_BRANCH at a branch of its own`,
  };
}

/** The active ruleset rules on the branch; none where GitHub has no rulesets (an older GitHub Enterprise Server answers 404). */
async function branchRules(github: GitHubAdapter, call: GitHubCall, branch: string): Promise<{ type: string }[]> {
  try {
    const request = github.request(call);
    return (await github.client.rest.repos.getBranchRules({ ...github.repository(), branch, request })).data;
  } catch (error) {
    if (statusOf(error) === 404) return [];
    throw error;
  }
}

interface Protection {
  required_pull_request_reviews?: unknown;
  required_status_checks?: unknown;
  restrictions?: unknown;
  required_signatures?: { enabled?: boolean };
  lock_branch?: { enabled?: boolean };
  allow_force_pushes?: { enabled?: boolean };
}

function protectionRefusals(protection: Protection, history: HistoryMode): string[] {
  const refusals: [boolean, string][] = [
    [Boolean(protection.required_pull_request_reviews), "requires pull request reviews"],
    [Boolean(protection.required_status_checks), "requires status checks"],
    [Boolean(protection.restrictions), "lets only named users, teams and apps push"],
    [protection.required_signatures?.enabled === true, "requires signed commits"],
    [protection.lock_branch?.enabled === true, "is locked"],
    [
      history === "squash" && protection.allow_force_pushes?.enabled !== true,
      "refuses force pushes (TELEMETRY_HISTORY=squash needs one)",
    ],
  ];
  return refusals.filter(([applies]) => applies).map(([, refusal]) => `its protection ${refusal}`);
}

function pushProtection(repository: RepositoryData): Check {
  const status = repository.security_and_analysis?.secret_scanning_push_protection?.status;
  if (status === "enabled") {
    return {
      name: "push protection",
      ok: true,
      detail:
        "on: GitHub refuses a secret the scrubber missed, and the event is set aside in the spool's quarantine (health's events_quarantined is then expected)",
    };
  }
  if (status === undefined) {
    return {
      name: "push protection",
      ok: true,
      detail:
        "not shown to this credential (GitHub shows it to admins): see the repository's Settings → Advanced Security",
    };
  }
  return {
    name: "push protection",
    ok: false,
    detail:
      "off: a secret the scrubber misses would be committed; turn on push protection in the repository's Settings → Advanced Security",
  };
}

/** `answered 404 Not Found`, in GitHub's own words (never a credential); or why there was no answer. */
function refusal(error: unknown): string {
  if (statusOf(error) === undefined) return `did not answer (${messageOf(error)})`;
  const said = (error as OctokitError).response?.data as { message?: unknown } | undefined;
  return `answered ${statusOf(error)}${typeof said?.message === "string" ? ` ${said.message}` : ""}`;
}
