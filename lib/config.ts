import { z } from "zod";

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
export const DEFAULT_PATH_PREFIX = "telemetry";
export const DEFAULT_LOCAL_DIR = ".telemetry-data";
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
const MIN_MAX_FILE_BYTES = 1024;
// The contents API takes files up to 100 MB, but every append re-uploads the whole file.
const MAX_MAX_FILE_BYTES = 50 * 1024 * 1024;

export interface GitHubConfig {
  token: string;
  owner: string;
  repo: string;
  /** Undefined: the repository's default branch. */
  branch: string | undefined;
  apiUrl: string;
}

export type StorageConfig =
  | { kind: "github"; github: GitHubConfig }
  | { kind: "local"; dir: string };

export interface Config {
  storage: StorageConfig;
  /** Folder inside the data repository (or local folder) holding the NDJSON tree; "" for the root. */
  pathPrefix: string;
  maxFileBytes: number;
}

/** Thrown when the environment cannot give a usable configuration; the message names what to set, never a value. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

const optional = z
  .string()
  .transform((value) => value.trim())
  .optional()
  .transform((value) => (value ? value : undefined));

const repoPart = z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be a GitHub owner or repository name");

const envSchema = z.object({
  GITHUB_TOKEN: optional,
  GITHUB_REPOSITORY: optional.pipe(
    z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be "owner/name"').optional(),
  ),
  GITHUB_REPO_OWNER: optional.pipe(repoPart.optional()),
  GITHUB_REPO_NAME: optional.pipe(repoPart.optional()),
  GITHUB_BRANCH: optional,
  GITHUB_API_URL: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
  TELEMETRY_PATH_PREFIX: optional.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.\/-]*$/, "may hold only letters, digits, '_', '.', '-' and '/'")
      .refine((prefix) => !prefix.split("/").includes(".."), "must not contain '..'")
      .optional(),
  ),
  TELEMETRY_LOCAL_DIR: optional,
  TELEMETRY_MAX_FILE_BYTES: optional.pipe(
    z.coerce.number<string>().int().min(MIN_MAX_FILE_BYTES).max(MAX_MAX_FILE_BYTES).optional(),
  ),
});

/**
 * Reads the environment into a validated configuration. This is the only module that reads
 * `process.env`.
 *
 * @param deployContext Netlify's deploy context ("production", "deploy-preview", ...; "" or "dev"
 *   under `netlify dev`; undefined outside Netlify). A deployed function must never fall back to
 *   the local folder: it would write to a throwaway disk and lose every event.
 */
export function loadConfig(env: Env = process.env, deployContext?: string): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
  }
  const vars = parsed.data;
  const common = {
    pathPrefix: (vars.TELEMETRY_PATH_PREFIX ?? DEFAULT_PATH_PREFIX).replace(/^\/+|\/+$/g, ""),
    maxFileBytes: vars.TELEMETRY_MAX_FILE_BYTES ?? DEFAULT_MAX_FILE_BYTES,
  };

  const [owner, repo] = vars.GITHUB_REPOSITORY
    ? vars.GITHUB_REPOSITORY.split("/")
    : [vars.GITHUB_REPO_OWNER, vars.GITHUB_REPO_NAME];
  const githubRequested = Boolean(vars.GITHUB_TOKEN || owner || repo);

  if (githubRequested) {
    if (!vars.GITHUB_TOKEN || !owner || !repo) {
      const missing = [
        vars.GITHUB_TOKEN ? undefined : "GITHUB_TOKEN",
        owner && repo ? undefined : "GITHUB_REPOSITORY (owner/name, or GITHUB_REPO_OWNER and GITHUB_REPO_NAME)",
      ].filter(Boolean);
      throw new ConfigError(`GitHub storage is partly configured: set ${missing.join(" and ")}`);
    }
    return {
      ...common,
      storage: {
        kind: "github",
        github: {
          token: vars.GITHUB_TOKEN,
          owner,
          repo,
          branch: vars.GITHUB_BRANCH,
          apiUrl: (vars.GITHUB_API_URL ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, ""),
        },
      },
    };
  }

  if (isDeployed(deployContext)) {
    throw new ConfigError(
      "GitHub storage is not configured: set GITHUB_TOKEN and GITHUB_REPOSITORY (the local folder store is for netlify dev only)",
    );
  }
  return { ...common, storage: { kind: "local", dir: vars.TELEMETRY_LOCAL_DIR ?? DEFAULT_LOCAL_DIR } };
}

function isDeployed(deployContext: string | undefined): boolean {
  return deployContext !== undefined && deployContext !== "" && deployContext !== "dev";
}
