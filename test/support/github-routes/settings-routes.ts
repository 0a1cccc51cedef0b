/**
 * What GitHub says of a repository's settings, once for both stand-ins: the caller's permissions and the
 * security settings on `GET /repos/{owner}/{repo}`, a branch (`GET …/branches/{branch}`), its classic
 * protection (`GET …/branches/{branch}/protection`) and the ruleset rules that apply to it
 * (`GET …/rules/branches/{branch}`), and the 403 a token without write access gets for every write.
 *
 * As GitHub documents them: `security_and_analysis` is shown only to a caller with admin rights; reading a
 * branch's protection needs them too (a caller without them is told `Not Found`), and an unprotected branch
 * answers 404 `Branch not protected`; the rules of a branch no ruleset targets are `[]`.
 */
import { DOCS, githubError, json, type Answer, type Roots } from "../fake-github/answers.ts";

const DOCS_BRANCH = "https://docs.github.com/rest/branches/branches#get-a-branch";
const DOCS_PROTECTION = "https://docs.github.com/rest/branches/branch-protection#get-branch-protection";
/** `branches/{branch}[/protection]` or `rules/branches/{branch}`, below the repository, the branch still percent-encoded. */
const SETTINGS_ROUTE = /^(?:branches\/([^/]+)(\/protection)?|rules\/branches\/([^/]+))$/;

/** What the repository answer says the caller may do (GitHub's `permissions`). */
export interface RepositoryPermissions {
  admin: boolean;
  maintain: boolean;
  push: boolean;
  triage: boolean;
  pull: boolean;
}

export interface RepositorySettings {
  /** The token's permissions on the repository; without `push`, every write is refused with 403. Default: push, not admin. */
  permissions?: RepositoryPermissions;
  /** Secret scanning's push protection, as `security_and_analysis` reports it to an admin. */
  pushProtection?: boolean;
  /** The default branch's classic protection, as `GET …/protection` answers it to an admin; unset: not protected. */
  branchProtection?: Record<string, unknown>;
  /** The active ruleset rules on every branch (`GET …/rules/branches/{branch}`); unset: none. */
  branchRules?: Record<string, unknown>[];
}

const DEFAULT_PERMISSIONS: RepositoryPermissions = {
  admin: false,
  maintain: false,
  push: true,
  triage: true,
  pull: true,
};

export class SettingsRoutes {
  readonly permissions: RepositoryPermissions;

  constructor(
    private readonly settings: RepositorySettings,
    /** `owner/repo`, which a ruleset of the repository's own names as its source. */
    private readonly source: string,
    /** A branch's head commit; undefined when there is no such branch. */
    private readonly headOf: (branch: string) => string | undefined,
  ) {
    this.permissions = settings.permissions ?? DEFAULT_PERMISSIONS;
  }

  /** The repository answer's part that depends on who asks. */
  repositoryFields(): Record<string, unknown> {
    const status = this.settings.pushProtection ? "enabled" : "disabled";
    return {
      permissions: this.permissions,
      ...(this.permissions.admin
        ? {
            security_and_analysis: {
              secret_scanning: { status },
              secret_scanning_push_protection: { status },
              dependabot_security_updates: { status: "disabled" },
            },
          }
        : {}),
    };
  }

  /** The 403 of a write by a token that may only read; undefined when it may write. */
  refusedWrite(method: string): Answer | undefined {
    if (method === "GET" || method === "HEAD" || this.permissions.push) return undefined;
    return githubError(403, "Resource not accessible by personal access token", DOCS.rest);
  }

  /** Whether `rest` (below `/repos/{owner}/{repo}/`) is one of these routes. */
  static matches(rest: string): boolean {
    return SETTINGS_ROUTE.test(rest);
  }

  /** The answer to a GET of `rest`, one of these routes. */
  handle(rest: string, roots: Roots): Answer {
    const [, encodedBranch, protection, rulesBranch] = SETTINGS_ROUTE.exec(rest) ?? [];
    if (rulesBranch !== undefined) return json(200, this.rules());
    const branch = decodeURIComponent(encodedBranch ?? "");
    const head = this.headOf(branch);
    if (head === undefined) return githubError(404, "Branch not found", DOCS_BRANCH);
    const protectionUrl = `${roots.api}/branches/${encodeURIComponent(branch)}/protection`;
    const protectedBranch = this.settings.branchProtection !== undefined;
    if (protection === undefined) {
      return json(200, {
        name: branch,
        commit: { sha: head, url: `${roots.api}/commits/${head}` },
        _links: { self: `${roots.api}/branches/${branch}`, html: `${roots.web}/tree/${branch}` },
        protected: protectedBranch,
        protection: {
          enabled: protectedBranch,
          required_status_checks: { enforcement_level: "off", contexts: [], checks: [] },
        },
        protection_url: protectionUrl,
      });
    }
    if (!this.permissions.admin) return githubError(404, "Not Found", DOCS_PROTECTION);
    if (!protectedBranch) return githubError(404, "Branch not protected", DOCS_PROTECTION);
    return json(200, { url: protectionUrl, ...this.settings.branchProtection });
  }

  /** Every rule applies to every branch: a ruleset whose target is `~ALL`. */
  private rules(): Record<string, unknown>[] {
    return (this.settings.branchRules ?? []).map((rule, index) => ({
      ruleset_source_type: "Repository",
      ruleset_source: this.source,
      ruleset_id: index + 1,
      ...rule,
    }));
  }
}
