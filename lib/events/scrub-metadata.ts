import { SHAPE_LIMITS } from "./check-shape.ts";

const REDACTED = "[REDACTED]";
const EMAIL_MARKER = "[email]";
const USER_MARKER = "[user]";

/** A key whose last word is one of these (or ends with one, as in `dbpassword`) holds a secret. */
const SECRET_WORDS = [
  "password",
  "passwd",
  "pwd",
  "passphrase",
  "secret",
  "token",
  "credential",
  "credentials",
  "authorization",
  "auth",
  "cookie",
];
/** "key" alone names many things (primary_key, key_count); after one of these words it names a credential. */
const KEY_QUALIFIERS = ["api", "private", "secret", "access"];
/** The words of a key: lower-case runs, capitalised words and acronyms, so `apiKey`, `API_KEY` and `x-api-key` agree. */
const KEY_WORD = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+/g;

/*
 * Every pattern runs in time linear in the text: no quantified group can match the same text two
 * ways, repeats that may fail after a long run are bounded, and a pattern whose failure costs a
 * whole run of characters may only start where such a run starts (the lookbehinds), so each run is
 * scanned once rather than once per character.
 */

/** A private key block; one whose end is missing (a truncated message) is redacted to the end of the text. */
const PEM_PRIVATE_KEY =
  /-----BEGIN[A-Z0-9 ]{0,64}PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,64}PRIVATE KEY-----|$)/g;
/** The password in `scheme://user:password@host`; group 1 is kept. A password may hold an unencoded "@". */
const URL_PASSWORD = /([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:@/?#]*:)[^\s/?#]+(?=@)/gi;
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;
const GITHUB_TOKEN = /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g;
const AWS_ACCESS_KEY_ID = /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;
/** OpenAI and Anthropic keys, `sk-proj-…` and `sk-ant-…` among them. */
const SK_KEY = /(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}/g;
const SLACK_TOKEN = /(?<![A-Za-z0-9])(?:xox[abeprs]|xapp)-[A-Za-z0-9-]{10,}/g;
const SLACK_WEBHOOK = /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{20,}/g;
/** GitLab personal, deploy, runner, trigger and feed tokens. */
const GITLAB_TOKEN = /(?<![A-Za-z0-9])(?:glpat|gldt|glrt|glptt|glft|glsoat|glcbt)-[A-Za-z0-9_-]{20,}/g;
const GOOGLE_API_KEY = /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g;
/** Stripe secret and restricted keys (publishable keys are public). */
const STRIPE_KEY = /(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/g;
const NPM_TOKEN = /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g;
/** PyPI API tokens are macaroons whose body starts with the encoded "pypi.org". */
const PYPI_TOKEN = /(?<![A-Za-z0-9])pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}/g;
const HUGGING_FACE_TOKEN = /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])/g;
/**
 * The token after "Bearer" (group 1 is kept). It must hold a digit or be 16 characters long, so
 * prose such as "Bearer authentication failed" keeps its words.
 */
const BEARER_TOKEN = /(?<![A-Za-z])(Bearer +)(?=[\w.~+/-]*\d|[\w.~+/-]{16})[\w.~+/-]{8,}=*/gi;
const EMAIL_ADDRESS = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** A user name runs to the next path separator, space, quote, bracket or character Windows forbids in one. */
const USER_NAME = String.raw`[^\\/\s"'()[\]<>|:;,=+*?]+`;
/**
 * The user name after a `home` or `Users` directory (group 1 is kept; spelt as the systems spell
 * them, so that a URL path such as `/api/users/42` keeps its id): `/home/alice`, `/Users/alice`,
 * `C:\Users\Bob`, `C:/Users/Bob` and the doubled backslashes of a repr'd Python string. A name may
 * hold spaces (`C:\Users\John Smith\`) when a separator follows it.
 */
const HOME_USER = new RegExp(
  String.raw`(?<=[\\/])((?:home|Users|USERS|(?<=[A-Za-z]:[\\/]{1,2})users)[\\/]+)(?:${USER_NAME}(?: +${USER_NAME}){0,3}(?=[\\/])|${USER_NAME})`,
  "g",
);

/**
 * A pattern and what each match becomes; a pattern's first group, when it has one, is kept before
 * the marker. A rule that finds a credential says which kind.
 */
interface TextRule {
  pattern: RegExp;
  marker: string;
  credential?: string;
}

/** In order: a block or URL password goes before the tokens and addresses it may contain, so each is counted once. */
const TEXT_RULES: readonly TextRule[] = [
  { pattern: PEM_PRIVATE_KEY, marker: REDACTED, credential: "private key" },
  { pattern: URL_PASSWORD, marker: REDACTED, credential: "password in a URL" },
  { pattern: JWT, marker: REDACTED, credential: "JSON web token" },
  { pattern: GITHUB_TOKEN, marker: REDACTED, credential: "GitHub token" },
  { pattern: GITLAB_TOKEN, marker: REDACTED, credential: "GitLab token" },
  { pattern: AWS_ACCESS_KEY_ID, marker: REDACTED, credential: "AWS access key" },
  { pattern: GOOGLE_API_KEY, marker: REDACTED, credential: "Google API key" },
  { pattern: STRIPE_KEY, marker: REDACTED, credential: "Stripe key" },
  { pattern: SK_KEY, marker: REDACTED, credential: "OpenAI or Anthropic key" },
  { pattern: SLACK_TOKEN, marker: REDACTED, credential: "Slack token" },
  { pattern: SLACK_WEBHOOK, marker: REDACTED, credential: "Slack webhook" },
  { pattern: NPM_TOKEN, marker: REDACTED, credential: "npm token" },
  { pattern: PYPI_TOKEN, marker: REDACTED, credential: "PyPI token" },
  { pattern: HUGGING_FACE_TOKEN, marker: REDACTED, credential: "Hugging Face token" },
  { pattern: BEARER_TOKEN, marker: REDACTED, credential: "bearer token" },
  { pattern: EMAIL_ADDRESS, marker: EMAIL_MARKER },
  { pattern: HOME_USER, marker: USER_MARKER },
];

export interface Scrubbed {
  metadata: Record<string, unknown>;
  /** How many values and occurrences were replaced. */
  redactions: number;
}

/**
 * A copy of `metadata` with secrets, e-mail addresses and home-directory user names replaced; counts each replacement.
 *
 * Metadata is stored in a repository others may read, so what a desktop app sends (tracebacks
 * above all) loses what identifies or unlocks something and keeps its shape. Keys are kept as
 * sent; copies are built with Object.fromEntries, which defines keys rather than assigning them,
 * so no key can reach a prototype.
 */
export function scrubMetadata(metadata: Record<string, unknown>): Scrubbed {
  let redactions = 0;

  const scrubText = (text: string): string =>
    withinLimit(
      TEXT_RULES.reduce(
        (current, rule) =>
          current.replace(rule.pattern, (_match: string, kept: unknown) => {
            redactions += 1;
            // Without a group the second argument is the match's offset, a number.
            return typeof kept === "string" ? kept + rule.marker : rule.marker;
          }),
        text,
      ),
      text,
    );

  const scrubObject = (object: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(object).map(([key, value]): [string, unknown] => {
        if (value === null || !namesSecret(key)) return [key, scrubValue(value)];
        redactions += 1;
        return [key, REDACTED];
      }),
    );

  const scrubValue = (value: unknown): unknown => {
    if (typeof value === "string") return scrubText(value);
    if (Array.isArray(value)) return value.map(scrubValue);
    if (typeof value === "object" && value !== null) return scrubObject(value as Record<string, unknown>);
    return value;
  };

  return { metadata: scrubObject(metadata), redactions };
}

/**
 * The kind of credential `text` holds, if it holds one (a private key, a token, a password in a
 * URL): what GitHub's push protection would refuse in a commit.
 */
export function credentialIn(text: string): string | undefined {
  for (const { pattern, credential } of TEXT_RULES) {
    if (!credential) continue;
    pattern.lastIndex = 0;
    const found = pattern.test(text);
    pattern.lastIndex = 0;
    if (found) return credential;
  }
  return undefined;
}

/**
 * A marker can be longer than what it replaces (`/home/a` becomes `/home/[user]`), so a text within
 * the string limit could come out over it: it is cut back to the limit (in characters, as the limit
 * counts them), or to the original's length when that was longer.
 */
function withinLimit(scrubbed: string, original: string): string {
  const limit = SHAPE_LIMITS.maxStringLength;
  if (scrubbed.length <= limit) return scrubbed;
  const characters = Array.from(scrubbed);
  const max = Math.max(limit, Array.from(original).length);
  return characters.length <= max ? scrubbed : characters.slice(0, max).join("");
}

function namesSecret(key: string): boolean {
  const words = Array.from(key.match(KEY_WORD) ?? [], (word) => word.toLowerCase());
  const last = words.at(-1) ?? "";
  if (SECRET_WORDS.some((word) => last.endsWith(word))) return true;
  if (last === "key" && KEY_QUALIFIERS.includes(words.at(-2) ?? "")) return true;
  return KEY_QUALIFIERS.some((qualifier) => last.endsWith(`${qualifier}key`));
}
