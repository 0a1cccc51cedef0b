import { createHmac } from "node:crypto";
import { z } from "zod";
import { describeIssues, issuesOf } from "./issue.ts";

const DEFAULT_GITHUB_API_URL = "https://api.github.com";
const DEFAULT_PATH_PREFIX = "telemetry";
const DEFAULT_LOCAL_DIR = ".telemetry-data";
const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** Below GitHub's 80 a minute and 500 an hour, leaving room for the token's other writes. */
const DEFAULT_WRITES_PER_MINUTE = 60;
const DEFAULT_WRITES_PER_HOUR = 400;
/** How long the oldest waiting event may wait before health says the pipeline is failing. */
const DEFAULT_HEALTH_MAX_WAIT_MINUTES = 15;
/** The real client's own test runs send this client type. */
const DEFAULT_DROP_CLIENT_TYPES = ["unit-tests"];
/** What the flush key is derived for, so that the same token gives other keys elsewhere. */
const FLUSH_KEY_LABEL = "telemetry flush function";
/** Shorter secrets and salts are guessable. */
const MIN_SECRET_LENGTH = 16;
/** Smaller parts multiply the files (and commits) a day takes: GitHub lists at most 1,000 entries a folder. */
const MIN_MAX_FILE_BYTES = 64 * 1024;
// The contents API takes files up to 100 MB, but every append re-uploads the whole file.
const MAX_MAX_FILE_BYTES = 10 * 1024 * 1024;
/** GitHub's own limits on content writes: a pace above them is refused by GitHub, write after write. */
const GITHUB_WRITES_PER_MINUTE = 80;
const GITHUB_WRITES_PER_HOUR = 500;
/** A hundred years: past that, a retention period is a typo. */
const MAX_RETENTION_DAYS = 36_500;
/** Hosts a plain-http API URL may name: only this machine (a stand-in), never a network a token would cross in clear. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/** How the install id is kept: see pseudonymizeHwid. */
const HWID_MODES = ["full", "hash"] as const;
export type HwidMode = (typeof HWID_MODES)[number];

/** What becomes of the history after an erasure or a retention run: kept as it is, or squashed to one commit. */
const HISTORY_MODES = ["keep", "squash"] as const;
export type HistoryMode = (typeof HISTORY_MODES)[number];

/** How the client address is kept: see anonymizeIp. */
const IP_MODES = ["full", "truncate", "hash", "off"] as const;
export type IpMode = (typeof IP_MODES)[number];

/** How many content writes the flusher may make: GitHub's limits, less what the token's other users need. */
export interface WriteLimits {
  perMinute: number;
  perHour: number;
}

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

export type StorageConfig = { kind: "github"; github: GitHubConfig } | { kind: "local"; dir: string };

export interface SpoolConfig {
  /** Off: every request writes to the store itself before answering (for places without Netlify Blobs). */
  enabled: boolean;
  limits: WriteLimits;
}

export type SchemaMode = "lenient" | "strict";

/** What the ingest endpoint accepts, from whom, and what it keeps of it. */
export interface IngestConfig {
  /** When set, every request must carry it (`X-Telemetry-Key` or `Authorization: Bearer`). */
  secret: string | undefined;
  /** Browser origins allowed to post: "*" for any, else exact origins; [] for none. */
  allowedOrigins: "*" | string[];
  /** Events of these client types are answered 201 and not stored. */
  dropClientTypes: string[];
  /** lenient: a known event whose metadata breaks its schema is stored with the violations; strict: rejected. */
  schemaMode: SchemaMode;
  ipMode: IpMode;
  ipSalt: string | undefined;
  hwidMode: HwidMode;
  hwidSalt: string | undefined;
  /** Redact secrets, e-mail addresses and home-directory user names in metadata. */
  scrub: boolean;
}

/** When health says the pipeline is failing. */
export interface HealthConfig {
  /** The oldest waiting event may wait this long (ms). */
  maxWaitMs: number;
}

export interface Config {
  /** Netlify's deploy context ("production", "deploy-preview", "branch-deploy", "dev"); undefined outside Netlify. */
  deployContext: string | undefined;
  /** Served by `netlify dev`, whose functions server inflates compressed request bodies itself. */
  netlifyDev: boolean;
  storage: StorageConfig;
  spool: SpoolConfig;
  ingest: IngestConfig;
  health: HealthConfig;
  /** Folder inside the data repository (or local folder) holding the NDJSON tree; "" for the root. */
  pathPrefix: string;
  maxFileBytes: number;
  /**
   * What a caller of the flush function must present: the shared secret, else a key derived from
   * the GitHub token (so every deployment has one, and it tells nothing of the token); none for the
   * local store, whose flushes then run in the ingesting process.
   */
  flushKey: string | undefined;
  /** The deploy's own URL (Netlify's DEPLOY_URL, else URL), where the flush function is called; never a client's Host. */
  siteUrl: string | undefined;
  /** Days of raw files kept (today included); undefined: every day is kept. Rollups are always kept. */
  retentionDays: number | undefined;
  history: HistoryMode;
}

/** What a configuration error is answered with: storage settings missing, or a setting that is wrong. */
export type ConfigProblem = "storage_not_configured" | "service_misconfigured";

/** Thrown when the environment cannot give a usable configuration; the message names what to set, never a value. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly code: ConfigProblem = "service_misconfigured",
  ) {
    super(message);
  }
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
  GITHUB_APP_ID: optional.pipe(z.string().regex(/^\d+$/, "must be the app's numeric id").optional()),
  // A PEM key pasted into one line keeps its line breaks as "\n".
  GITHUB_APP_PRIVATE_KEY: optional.pipe(
    z
      .string()
      .transform((key) => key.replaceAll("\\n", "\n"))
      .refine((key) => /-----BEGIN (?:RSA )?PRIVATE KEY-----/.test(key), "must be the app's private key (PEM)")
      .optional(),
  ),
  GITHUB_APP_INSTALLATION_ID: optional.pipe(z.coerce.number<string>().int().positive().optional()),
  GITHUB_REPOSITORY: optional.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be "owner/name"')
      .optional(),
  ),
  GITHUB_REPO_OWNER: optional.pipe(repoPart.optional()),
  GITHUB_REPO_NAME: optional.pipe(repoPart.optional()),
  GITHUB_BRANCH: optional,
  GITHUB_API_URL: optional.pipe(
    z
      .url({ protocol: /^https?$/ })
      .refine(
        (url) => new URL(url).protocol === "https:" || LOOPBACK_HOST.test(new URL(url).hostname),
        "must use https (plain http only to this machine: the token would cross the network in clear)",
      )
      .optional(),
  ),
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
  TELEMETRY_SPOOL: optional.pipe(z.enum(["on", "off"]).optional()),
  TELEMETRY_WRITES_PER_MINUTE: optional.pipe(
    z.coerce
      .number<string>()
      .int()
      .min(1)
      .max(GITHUB_WRITES_PER_MINUTE, `must be at most ${GITHUB_WRITES_PER_MINUTE} (GitHub's limit)`)
      .optional(),
  ),
  TELEMETRY_WRITES_PER_HOUR: optional.pipe(
    z.coerce
      .number<string>()
      .int()
      .min(1)
      .max(GITHUB_WRITES_PER_HOUR, `must be at most ${GITHUB_WRITES_PER_HOUR} (GitHub's limit)`)
      .optional(),
  ),
  TELEMETRY_SECRET: optional.pipe(
    z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional(),
  ),
  TELEMETRY_ALLOWED_ORIGINS: optional.pipe(
    z
      .string()
      .refine(
        (value) => value === "*" || value.split(",").every((origin) => isOrigin(origin.trim())),
        'must be "*" or a comma-separated list of origins such as https://example.com',
      )
      .optional(),
  ),
  TELEMETRY_DROP_CLIENT_TYPES: optional,
  TELEMETRY_SCHEMA_MODE: optional.pipe(z.enum(["lenient", "strict"]).optional()),
  TELEMETRY_IP_MODE: optional.pipe(z.enum(IP_MODES).optional()),
  TELEMETRY_IP_SALT: optional.pipe(
    z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional(),
  ),
  TELEMETRY_HWID_MODE: optional.pipe(z.enum(HWID_MODES).optional()),
  TELEMETRY_HWID_SALT: optional.pipe(
    z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional(),
  ),
  TELEMETRY_SCRUB: optional.pipe(z.enum(["on", "off"]).optional()),
  TELEMETRY_HEALTH_MAX_WAIT_MINUTES: optional.pipe(
    z.coerce
      .number<string>()
      .int()
      .min(1)
      .max(24 * 60)
      .optional(),
  ),
  TELEMETRY_HISTORY: optional.pipe(z.enum(HISTORY_MODES).optional()),
  TELEMETRY_RETENTION_DAYS: optional.pipe(z.coerce.number<string>().int().min(1).max(MAX_RETENTION_DAYS).optional()),
  DEPLOY_URL: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
  URL: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
});

/**
 * Reads the environment into a validated configuration. This is the only module that reads
 * `process.env`.
 *
 * @param deployContext Netlify's deploy context ("production", "deploy-preview", ...; "" or "dev"
 *   under `netlify dev`; undefined outside Netlify). A deployed function must never fall back to
 *   the local folder: it would write to a throwaway disk and lose every event. A Lambda-compatible
 *   function has no context object to read it from: it is then told by the environment.
 */
export function loadConfig(env: Env = process.env, deployContext: string | undefined = deployContextOf(env)): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${describeIssues(issuesOf(parsed.error.issues))}`);
  }
  const vars = parsed.data;
  // netlify dev sets it for its own functions; in a deployed function it would pass for netlify dev
  // (a local folder store on a throwaway disk, bodies taken as already inflated).
  if (env.NETLIFY_DEV === "true" && (isDeployed(env.CONTEXT) || isDeployed(deployContext))) {
    throw new ConfigError("NETLIFY_DEV is set in a deployed context: it is netlify dev's own variable, unset it");
  }
  const ipMode = vars.TELEMETRY_IP_MODE ?? "full";
  if (ipMode === "hash" && !vars.TELEMETRY_IP_SALT) {
    throw new ConfigError("TELEMETRY_IP_MODE=hash needs TELEMETRY_IP_SALT (a random secret of at least 16 characters)");
  }
  const hwidMode = vars.TELEMETRY_HWID_MODE ?? "full";
  if (hwidMode === "hash" && !vars.TELEMETRY_HWID_SALT) {
    throw new ConfigError(
      "TELEMETRY_HWID_MODE=hash needs TELEMETRY_HWID_SALT (a random secret of at least 16 characters, kept for good: a new one makes every install new)",
    );
  }
  const common = {
    deployContext,
    netlifyDev: deployContext === "dev" || deployContext === "",
    ingest: {
      secret: vars.TELEMETRY_SECRET,
      allowedOrigins: originsOf(vars.TELEMETRY_ALLOWED_ORIGINS),
      dropClientTypes: listOf(vars.TELEMETRY_DROP_CLIENT_TYPES, DEFAULT_DROP_CLIENT_TYPES),
      schemaMode: vars.TELEMETRY_SCHEMA_MODE ?? "lenient",
      ipMode,
      ipSalt: vars.TELEMETRY_IP_SALT,
      hwidMode,
      hwidSalt: vars.TELEMETRY_HWID_SALT,
      scrub: vars.TELEMETRY_SCRUB !== "off",
    },
    health: { maxWaitMs: (vars.TELEMETRY_HEALTH_MAX_WAIT_MINUTES ?? DEFAULT_HEALTH_MAX_WAIT_MINUTES) * 60_000 },
    flushKey: flushKeyOf(vars.TELEMETRY_SECRET, vars.GITHUB_TOKEN ?? vars.GITHUB_APP_PRIVATE_KEY),
    siteUrl: vars.DEPLOY_URL ?? vars.URL,
    retentionDays: vars.TELEMETRY_RETENTION_DAYS,
    history: vars.TELEMETRY_HISTORY ?? "keep",
    pathPrefix: (vars.TELEMETRY_PATH_PREFIX ?? DEFAULT_PATH_PREFIX).replace(/^\/+|\/+$/g, ""),
    maxFileBytes: vars.TELEMETRY_MAX_FILE_BYTES ?? DEFAULT_MAX_FILE_BYTES,
    spool: {
      enabled: vars.TELEMETRY_SPOOL !== "off",
      limits: {
        perMinute: vars.TELEMETRY_WRITES_PER_MINUTE ?? DEFAULT_WRITES_PER_MINUTE,
        perHour: vars.TELEMETRY_WRITES_PER_HOUR ?? DEFAULT_WRITES_PER_HOUR,
      },
    },
  };

  const [owner, repo] = vars.GITHUB_REPOSITORY
    ? vars.GITHUB_REPOSITORY.split("/")
    : [vars.GITHUB_REPO_OWNER, vars.GITHUB_REPO_NAME];
  const app = [vars.GITHUB_APP_ID, vars.GITHUB_APP_PRIVATE_KEY, vars.GITHUB_APP_INSTALLATION_ID];
  const githubRequested = Boolean(vars.GITHUB_TOKEN || app.some(Boolean) || owner || repo);

  if (githubRequested) {
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
      ...common,
      storage: {
        kind: "github",
        github: {
          credentials,
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
      "storage_not_configured",
    );
  }
  return { ...common, storage: { kind: "local", dir: vars.TELEMETRY_LOCAL_DIR ?? DEFAULT_LOCAL_DIR } };
}

/**
 * The command-line tool's configuration: the service's own variables (credentials, API URL, path
 * prefix, the flush key), outside any deploy; `repository` (`owner/name`) names the data repository
 * instead of GITHUB_REPOSITORY.
 */
export function loadCliConfig({ repository }: { repository?: string } = {}, env: Env = process.env): Config {
  return loadConfig(repository ? { ...env, GITHUB_REPOSITORY: repository } : env, undefined);
}

/** The shared secret, else a key only a holder of the GitHub credential can make, from which it cannot be recovered. */
function flushKeyOf(secret: string | undefined, credential: string | undefined): string | undefined {
  if (secret !== undefined) return secret;
  return credential === undefined
    ? undefined
    : createHmac("sha256", credential).update(FLUSH_KEY_LABEL).digest("base64url");
}

/** A token, or a GitHub App's three settings (one of the two, whole); else what is missing. */
function credentialsOf(vars: z.output<typeof envSchema>): GitHubCredentials | { missing: string[] } {
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

/** "none" is the empty list: an unset variable means the default. */
function listOf(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  if (value === "none") return [];
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

function originsOf(value: string | undefined): "*" | string[] {
  if (value === "*") return "*";
  return listOf(value, []).map((origin) => new URL(origin).origin);
}

function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value.replace(/\/$/, "");
}

/** "dev" under `netlify dev`, Netlify's `CONTEXT` where it is set, "production" in any other Lambda, else undefined. */
export function deployContextOf(env: Env): string | undefined {
  if (env.NETLIFY_DEV === "true") return "dev";
  if (env.CONTEXT) return env.CONTEXT;
  return env.AWS_LAMBDA_FUNCTION_NAME || env.LAMBDA_TASK_ROOT ? "production" : undefined;
}

function isDeployed(deployContext: string | undefined): boolean {
  return deployContext !== undefined && deployContext !== "" && deployContext !== "dev";
}
