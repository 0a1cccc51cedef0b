import { z } from "zod";

/** Shorter secrets and salts are guessable. */
const MIN_SECRET_LENGTH = 16;
/** The operator's key runs jobs that spend the GitHub token's budget: longer than a client's secret. */
const MIN_ADMIN_KEY_LENGTH = 32;
/** Smaller parts multiply the files (and commits) a day takes: GitHub lists at most 1,000 entries a folder. */
const MIN_MAX_FILE_BYTES = 64 * 1024;
// The contents API takes files up to 100 MB, but every append re-uploads the whole file.
const MAX_MAX_FILE_BYTES = 10 * 1024 * 1024;
/** GitHub's own limits on content writes: a pace above them is refused by GitHub, write after write. */
export const GITHUB_WRITES_PER_MINUTE = 80;
export const GITHUB_WRITES_PER_HOUR = 500;
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

/** What the hourly job opens GitHub issues for (see lib/alerts/); each can be turned off. */
export const ALERT_KINDS = ["error_group", "release_health", "silence", "credentials"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** How the client address is kept: see anonymizeIp. */
const IP_MODES = ["full", "truncate", "hash", "off"] as const;
export type IpMode = (typeof IP_MODES)[number];

const optional = z
  .string()
  .transform((value) => value.trim())
  .optional()
  .transform((value) => (value ? value : undefined));

const repoPart = z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be a GitHub owner or repository name");

/** The variables the service reads, each checked: a value that would break the service is refused at start. */
export const envSchema = z.object({
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
  // "" is a value here (the repository's root), not an unset variable.
  TELEMETRY_PATH_PREFIX: z
    .string()
    .transform((value) => value.trim())
    .pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9_.\/-]*$/, "may hold only letters, digits, '_', '.', '-' and '/'")
        .refine((prefix) => !prefix.split("/").includes(".."), "must not contain '..'"),
    )
    .optional(),
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
  TELEMETRY_ADMIN_KEY: optional.pipe(
    z.string().min(MIN_ADMIN_KEY_LENGTH, `must be at least ${MIN_ADMIN_KEY_LENGTH} characters`).optional(),
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
  TELEMETRY_HWID_PREVIOUS_SALT: optional.pipe(
    z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional(),
  ),
  TELEMETRY_SCRUB: optional.pipe(z.enum(["on", "off"]).optional()),
  TELEMETRY_GEO: optional.pipe(z.enum(["on", "off"]).optional()),
  TELEMETRY_HEALTH_MAX_WAIT_MINUTES: optional.pipe(
    z.coerce
      .number<string>()
      .int()
      .min(1)
      .max(24 * 60)
      .optional(),
  ),
  TELEMETRY_HISTORY: optional.pipe(z.enum(HISTORY_MODES).optional()),
  TELEMETRY_ALERTS: optional.pipe(z.enum(["on", "off"]).optional()),
  TELEMETRY_ALERTS_OFF: optional.pipe(
    z
      .string()
      .transform((value) => value.split(",").map((kind) => kind.trim()))
      .refine(
        (kinds) => kinds.every((kind) => (ALERT_KINDS as readonly string[]).includes(kind)),
        `must be a comma-separated list of alert kinds: ${ALERT_KINDS.join(", ")}`,
      )
      .transform((kinds) => kinds as AlertKind[])
      .optional(),
  ),
  TELEMETRY_RETENTION_DAYS: optional.pipe(z.coerce.number<string>().int().min(1).max(MAX_RETENTION_DAYS).optional()),
  DEPLOY_URL: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
  URL: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
});

/** What the environment gave, checked. */
export type EnvVars = z.output<typeof envSchema>;

function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value.replace(/\/$/, "");
}
