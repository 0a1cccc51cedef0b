import { createHmac } from "node:crypto";
import { ConfigError } from "./config/config-error.ts";
import {
  ALERT_KINDS,
  envSchema,
  type AlertKind,
  type HistoryMode,
  type HwidMode,
  type IpMode,
} from "./config/env-schema.ts";
import { githubStorage, type GitHubConfig } from "./config/github-storage.ts";
import { describeIssues, issuesOf } from "./issue.ts";

// The sections' own modules; the rest of lib/ reads the configuration from here.
export { ConfigError, type ConfigProblem } from "./config/config-error.ts";
export type { AlertKind, HistoryMode, HwidMode, IpMode } from "./config/env-schema.ts";
export { GITHUB_WRITES_PER_HOUR, GITHUB_WRITES_PER_MINUTE } from "./config/env-schema.ts";
export type { GitHubConfig, GitHubCredentials } from "./config/github-storage.ts";

const DEFAULT_PATH_PREFIX = "telemetry";
const DEFAULT_LOCAL_DIR = ".telemetry-data";
const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** Below GitHub's 80 a minute and 500 an hour, leaving room for the token's other writes. */
const DEFAULT_WRITES_PER_MINUTE = 60;
const DEFAULT_WRITES_PER_HOUR = 400;
/** A local folder takes writes as fast as they come: GitHub's pace would only hold its events back. */
const LOCAL_WRITE_LIMITS: WriteLimits = { perMinute: Number.POSITIVE_INFINITY, perHour: Number.POSITIVE_INFINITY };
/** How long the oldest waiting event may wait before health says the pipeline is failing. */
const DEFAULT_HEALTH_MAX_WAIT_MINUTES = 15;
/** The real client's own test runs send this client type. */
const DEFAULT_DROP_CLIENT_TYPES = ["unit-tests"];
/** What the flush key is derived for, so that the same token gives other keys elsewhere. */
const FLUSH_KEY_LABEL = "telemetry flush function";

/**
 * Where each job a caller starts is answered: under /api/v1/jobs/, through a netlify.toml redirect
 * that carries a rate limit of its own (Netlify applies rate limits to redirects only). A rewrite
 * keeps the path the caller asked for, so the function's own /.netlify/functions/ path, which no
 * rule covers, is told apart and refused.
 */
export const jobPaths = {
  flush: "/api/v1/jobs/flush",
  publish: "/api/v1/jobs/publish",
  retention: "/api/v1/jobs/retention",
  erase: "/api/v1/jobs/erase",
} as const;

/** How many content writes the flusher may make: GitHub's limits, less what the token's other users need; none for a local folder. */
export interface WriteLimits {
  perMinute: number;
  perHour: number;
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
  /** The salt before TELEMETRY_HWID_SALT: erasure and export look for the ids hashed with it too. */
  hwidPreviousSalt: string | undefined;
  /** Redact secrets, e-mail addresses and home-directory user names in metadata. */
  scrub: boolean;
  /** Keep the caller's country as Netlify's edge placed it (a two-letter code, no address). */
  geo: boolean;
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
   * The jobs' key, what a caller of a job function (flush, publish, retention, erasure) must present:
   * TELEMETRY_ADMIN_KEY, else a key derived from the GitHub credential (so every deployment has one,
   * and it tells nothing of the credential); never TELEMETRY_SECRET, which clients hold. None for the
   * local store without an admin key, whose flushes then run in the ingesting process.
   */
  flushKey: string | undefined;
  /**
   * Where the jobs' functions are called: DEPLOY_URL, else URL (under `netlify dev`, and for the
   * CLI); never a client's Host. A deployed function takes its deploy's own address from Netlify's
   * context instead (see deployOf): at run time URL is production's, whichever deploy runs.
   */
  siteUrl: string | undefined;
  /** Days of raw files kept (today included); undefined: every day is kept. Rollups are always kept. */
  retentionDays: number | undefined;
  history: HistoryMode;
  /** The alert kinds the hourly job opens issues for in the data repository (TELEMETRY_ALERTS, TELEMETRY_ALERTS_OFF); none when off. */
  alerts: AlertKind[];
}

type Env = Record<string, string | undefined>;

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
  // Without the spool nothing holds the flusher's lease while ingest commits directly: a job must not rewrite the history then.
  if (vars.TELEMETRY_HISTORY === "squash" && vars.TELEMETRY_SPOOL === "off") {
    throw new ConfigError("TELEMETRY_HISTORY=squash needs the spool: unset TELEMETRY_SPOOL=off, or keep the history");
  }
  if (vars.TELEMETRY_ADMIN_KEY !== undefined && vars.TELEMETRY_ADMIN_KEY === vars.TELEMETRY_SECRET) {
    throw new ConfigError("TELEMETRY_ADMIN_KEY must differ from TELEMETRY_SECRET: every client holds the secret");
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
      hwidPreviousSalt: vars.TELEMETRY_HWID_PREVIOUS_SALT,
      scrub: vars.TELEMETRY_SCRUB !== "off",
      geo: vars.TELEMETRY_GEO !== "off",
    },
    health: { maxWaitMs: (vars.TELEMETRY_HEALTH_MAX_WAIT_MINUTES ?? DEFAULT_HEALTH_MAX_WAIT_MINUTES) * 60_000 },
    flushKey: jobKeyOf(vars.TELEMETRY_ADMIN_KEY, vars.GITHUB_TOKEN ?? vars.GITHUB_APP_PRIVATE_KEY),
    siteUrl: vars.DEPLOY_URL ?? vars.URL,
    retentionDays: vars.TELEMETRY_RETENTION_DAYS,
    history: vars.TELEMETRY_HISTORY ?? "keep",
    alerts:
      vars.TELEMETRY_ALERTS === "off"
        ? []
        : ALERT_KINDS.filter((kind) => !(vars.TELEMETRY_ALERTS_OFF ?? []).includes(kind)),
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

  let github: GitHubConfig | undefined;
  try {
    github = githubStorage(vars);
  } catch (error) {
    throw inContext(error, deployContext);
  }
  if (github) return { ...common, storage: { kind: "github", github } };

  if (isDeployed(deployContext)) {
    const missing = new ConfigError(
      "GitHub storage is not configured: set GITHUB_TOKEN and GITHUB_REPOSITORY (the local folder store is for netlify dev only)",
      "storage_not_configured",
    );
    throw inContext(missing, deployContext);
  }
  return {
    ...common,
    spool: { ...common.spool, limits: LOCAL_WRITE_LIMITS },
    storage: { kind: "local", dir: vars.TELEMETRY_LOCAL_DIR ?? DEFAULT_LOCAL_DIR },
  };
}

/**
 * The site's name and URL, read as Netlify's Request/Response bootstrap reads them into
 * `context.site` (@netlify/serverless-functions-api 2.16.0, dist/index.js): for the
 * Lambda-compatible function, which is given no context object.
 */
export function siteOf(env: Env = process.env): { name: string | undefined; url: string | undefined } {
  return { name: env.SITE_NAME, url: env.URL };
}

/** The environment `npm start` hands `netlify dev`: this one, colours forced where a terminal shows them (piped, netlify dev would drop them). */
export function devServerEnv(terminal: boolean, env: Env = process.env): Env {
  return terminal ? { FORCE_COLOR: "1", ...env } : env;
}

/**
 * The command-line tool's configuration: the service's own variables (credentials, API URL, path
 * prefix, the flush key), outside any deploy; `repository` (`owner/name`) names the data repository
 * instead of GITHUB_REPOSITORY.
 */
export function loadCliConfig({ repository }: { repository?: string } = {}, env: Env = process.env): Config {
  return loadConfig(repository ? { ...env, GITHUB_REPOSITORY: repository } : env, undefined);
}

/**
 * The operator's key, else one only a holder of the GitHub credential can make, from which it cannot
 * be recovered; never the clients' shared secret, which every install of the app holds.
 */
function jobKeyOf(adminKey: string | undefined, credential: string | undefined): string | undefined {
  if (adminKey !== undefined) return adminKey;
  return credential === undefined
    ? undefined
    : createHmac("sha256", credential).update(FLUSH_KEY_LABEL).digest("base64url");
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

/** "dev" under `netlify dev`, Netlify's `CONTEXT` where it is set, "production" in any other Lambda, else undefined. */
export function deployContextOf(env: Env): string | undefined {
  if (env.NETLIFY_DEV === "true") return "dev";
  if (env.CONTEXT) return env.CONTEXT;
  return env.AWS_LAMBDA_FUNCTION_NAME || env.LAMBDA_TASK_ROOT ? "production" : undefined;
}

/**
 * A deploy preview or a branch deploy runs with the variables set for its own context, not
 * production's: its storage error says where they go.
 */
function inContext(error: unknown, deployContext: string | undefined): unknown {
  const elsewhere = isDeployed(deployContext) && deployContext !== "production";
  if (!(error instanceof ConfigError) || error.code !== "storage_not_configured" || !elsewhere) return error;
  return new ConfigError(
    `${error.message}, for the ${deployContext} context: this deploy gets that context's variables, not production's (see README, "Deploy previews")`,
    error.code,
  );
}

function isDeployed(deployContext: string | undefined): boolean {
  return deployContext !== undefined && deployContext !== "" && deployContext !== "dev";
}
