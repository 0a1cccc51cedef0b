import { describe, expect, it } from "vitest";
import { scrubMetadata } from "../lib/events/scrub-metadata.ts";

const GITHUB_CLASSIC = `ghp_${"a1B2".repeat(9)}`;
// Built, like the classic one, so that no committed line looks like a real token to a secret scanner.
const GITHUB_FINE_GRAINED = `github_pat_${"11ABCDEFG0123456789_"}${"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"}`;
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq3\nQ2x9+/abc==\n-----END RSA PRIVATE KEY-----";

/** The text a string value becomes, and how many replacements it took. */
function scrubText(text: string): [unknown, number] {
  const { metadata, redactions } = scrubMetadata({ text });
  return [metadata.text, redactions];
}

describe("keys that name secrets", () => {
  it.each([
    "password",
    "db_password",
    "DB_PASSWORD",
    "userPassword",
    "dbpassword",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "client_secret",
    "clientSecret",
    "token",
    "GITHUB_TOKEN",
    "accessToken",
    "refresh_token",
    "id_token",
    "apikey",
    "apiKey",
    "APIKey",
    "api_key",
    "OPENAI_API_KEY",
    "x-api-key",
    "openai.api_key",
    "private_key",
    "privateKey",
    "secret_key",
    "aws_secret_access_key",
    "access_key",
    "credential",
    "credentials",
    "Authorization",
    "proxy-authorization",
    "auth",
    "basicAuth",
    "oauth",
    "cookie",
    "Set-Cookie",
  ])("redacts the whole value of %s", (key) => {
    expect(scrubMetadata({ [key]: "hunter2" })).toEqual({ metadata: { [key]: "[REDACTED]" }, redactions: 1 });
  });

  it.each([
    "token_count",
    "max_tokens",
    "tokenCount",
    "session_id",
    "auth_method",
    "error_hash",
    "local_path_hash",
    "host_hash",
    "key_count",
    "primary_key",
    "keyboard_layout",
    "monkey",
    "turnkey",
    "password_set",
    "api_key_count",
    "hwid",
  ])("keeps the value of %s", (key) => {
    expect(scrubMetadata({ [key]: "hunter2" })).toEqual({ metadata: { [key]: "hunter2" }, redactions: 0 });
  });

  it("redacts a secret's value whatever its type, but keeps null", () => {
    const metadata = {
      password: { nested: "x" },
      token: 12345,
      auth: true,
      cookie: ["a", "b"],
      api_key: "",
      secret: null,
    };
    expect(scrubMetadata(metadata)).toEqual({
      metadata: {
        password: "[REDACTED]",
        token: "[REDACTED]",
        auth: "[REDACTED]",
        cookie: "[REDACTED]",
        api_key: "[REDACTED]",
        secret: null,
      },
      redactions: 5,
    });
  });
});

describe("values that look like credentials", () => {
  it.each([
    ["a classic GitHub token", `push failed with ${GITHUB_CLASSIC}.`, "push failed with [REDACTED]."],
    ["a GitHub app token", `ghs_${"Z9y8".repeat(9)}`, "[REDACTED]"],
    ["a fine-grained GitHub token", `GITHUB_TOKEN=${GITHUB_FINE_GRAINED}`, "GITHUB_TOKEN=[REDACTED]"],
    ["an AWS access key id", "aws key AKIAIOSFODNN7EXAMPLE denied", "aws key [REDACTED] denied"],
    ["an AWS session key id", "ASIAY34FZKBOKMUTVV7A", "[REDACTED]"],
    [
      "an OpenAI project key",
      "Incorrect API key provided: sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12.",
      "Incorrect API key provided: [REDACTED].",
    ],
    ["an Anthropic key", "x-api-key: sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv_wx-yz0123", "x-api-key: [REDACTED]"],
    ["a Slack token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx sent", "[REDACTED] sent"],
    ["a JWT", `session ${JWT} expired`, "session [REDACTED] expired"],
    ["a private key block", `loaded:\n${PEM}\ndone`, "loaded:\n[REDACTED]\ndone"],
    [
      "a private key block whose end was cut off",
      "key -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA",
      "key [REDACTED]",
    ],
    ["a bearer token, keeping the word", "Authorization: Bearer abc123def456ghi", "Authorization: Bearer [REDACTED]"],
    ["a bearer JWT, counted once", `bearer ${JWT}`, "bearer [REDACTED]"],
    [
      "a password in a URL",
      "postgresql://admin:s3cr3t@db.internal:5432/app",
      "postgresql://admin:[REDACTED]@db.internal:5432/app",
    ],
    ["a URL password holding an @", "https://bob:P@ss@example.com/x", "https://bob:[REDACTED]@example.com/x"],
    ["a GitLab token", `token ${"glpat"}-${"Ab12Cd34Ef56Gh78Ij90"} revoked`, "token [REDACTED] revoked"],
    ["a Google API key", `key=${"AIza"}${"Sy".repeat(17)}A&q=1`, "key=[REDACTED]&q=1"],
    ["a Stripe secret key", `stripe ${"sk"}_live_${"4eC39HqLyjWDarjtT1zdp7dc"}`, "stripe [REDACTED]"],
    ["a Stripe restricted key", `${"rk"}_test_${"4eC39HqLyjWDarjtT1zdp7dc"}`, "[REDACTED]"],
    [
      "an npm token",
      `//registry.npmjs.org/:_authToken=${"npm"}_${"a1B2c3D4e5".repeat(3)}a1B2c3`,
      "//registry.npmjs.org/:_authToken=[REDACTED]",
    ],
    ["a PyPI token", `${"pypi"}-AgEIcHlwaS5vcmc${"CJDU2ZjM5ZDlhLTc4".repeat(4)}`, "[REDACTED]"],
    ["a Hugging Face token", `HF_TOKEN=${"hf"}_${"AbCdEfGhIjKlMnOpQrStUvWxYz0123"}`, "HF_TOKEN=[REDACTED]"],
    ["a Slack app token", `${"xapp"}-1-A0123456789-1234567890123-abcdef`, "[REDACTED]"],
    [
      "a Slack webhook",
      `posting to https://hooks.slack.com/services/${"T00000000"}/${"B00000000"}/${"XXXXXXXXXXXXXXXXXXXXXXXX"}`,
      "posting to [REDACTED]",
    ],
  ])("replaces %s", (_name, text, expected) => {
    expect(scrubText(text)).toEqual([expected, 1]);
  });

  it.each([
    "task-0123456789abcdefghijklmnop failed",
    "Bearer authentication failed",
    "max_tokens must be at most 4096",
    "https://example.com/docs/page",
    "model sentence-transformers/all-mpnet-base-v2",
    "@property raised for value@version",
    "ghp_tooShort AKIA123",
    "hf_hub_download failed for hf_transfer",
    "npm_config_cache is set",
    "pk_live_publishable_is_public_1234567890",
  ])("keeps %j", (text) => {
    expect(scrubText(text)).toEqual([text, 0]);
  });
});

describe("personal data", () => {
  it("replaces e-mail addresses, counting each", () => {
    expect(scrubText("from alice.smith+tag@example.co.uk to <bob@mail.example.org>")).toEqual([
      "from [email] to <[email]>",
      2,
    ]);
  });

  it.each([
    ["/home/alice/.config/app.toml", "/home/[user]/.config/app.toml"],
    ["/Users/alice/Library/Logs/app.log", "/Users/[user]/Library/Logs/app.log"],
    ["C:\\Users\\Bob\\AppData\\Local\\app.log", "C:\\Users\\[user]\\AppData\\Local\\app.log"],
    ["d:\\users\\bob\\x.py", "d:\\users\\[user]\\x.py"],
    [String.raw`'C:\\Users\\bob\\AppData'`, String.raw`'C:\\Users\\[user]\\AppData'`],
    ["C:/Users/Bob/Desktop/data.csv", "C:/Users/[user]/Desktop/data.csv"],
    ["C:\\Users\\John Smith\\Documents", "C:\\Users\\[user]\\Documents"],
    ["cwd=/home/alice", "cwd=/home/[user]"],
    ["('/home/alice', '/Users/bob')", "('/home/[user]', '/Users/[user]')"],
  ])("replaces the user name in %s", (text, expected) => {
    expect(scrubText(text)[0]).toBe(expected);
  });

  it("keeps /root and other paths", () => {
    expect(scrubText("/root/.cache/pip and /opt/homebrew/bin")).toEqual(["/root/.cache/pip and /opt/homebrew/bin", 0]);
  });

  it("keeps a URL's /users/<id>: only home folders spelt as the systems spell them are user names", () => {
    expect(scrubText("GET https://api.example.com/v2/users/4211/items failed")).toEqual([
      "GET https://api.example.com/v2/users/4211/items failed",
      0,
    ]);
  });

  it("scrubs a Python traceback to the same lines, with the same shape", () => {
    const traceback = String.raw`Traceback (most recent call last):
  File "/home/alice/.venv/lib/python3.11/site-packages/vector_inspector/services/embedding.py", line 88, in embed
    response = self._client.embeddings.create(model=model, input=texts)
  File "C:\Users\Bob\AppData\Local\Programs\Python\Python311\Lib\site-packages\openai\_base_client.py", line 1047, in request
    raise self._make_status_error_from_response(err.response) from None
openai.AuthenticationError: Error code: 401 - invalid key sk-proj-Q3kLm9Xv2RtY7wZp4NcA8bHd for bob.jones@example.com
`;
    const expected = String.raw`Traceback (most recent call last):
  File "/home/[user]/.venv/lib/python3.11/site-packages/vector_inspector/services/embedding.py", line 88, in embed
    response = self._client.embeddings.create(model=model, input=texts)
  File "C:\Users\[user]\AppData\Local\Programs\Python\Python311\Lib\site-packages\openai\_base_client.py", line 1047, in request
    raise self._make_status_error_from_response(err.response) from None
openai.AuthenticationError: Error code: 401 - invalid key [REDACTED] for [email]
`;
    const metadata = { exception_type: "AuthenticationError", traceback, python_version: "3.11.9", handled: false };
    expect(scrubMetadata(metadata)).toEqual({ metadata: { ...metadata, traceback: expected }, redactions: 4 });
  });
});

describe("the copy", () => {
  it("scrubs nested objects and arrays, keeps keys, numbers, booleans and null, and leaves the input as it was", () => {
    const metadata = {
      errors: [{ message: "mail a@b.io", code: 7 }, GITHUB_CLASSIC, [null, true, 1.5]],
      "carol@example.com": "kept key",
      settings: { db: { password: "x", port: 5432 } },
    };
    const before = structuredClone(metadata);
    expect(scrubMetadata(metadata)).toEqual({
      metadata: {
        errors: [{ message: "mail [email]", code: 7 }, "[REDACTED]", [null, true, 1.5]],
        "carol@example.com": "kept key",
        settings: { db: { password: "[REDACTED]", port: 5432 } },
      },
      redactions: 3,
    });
    expect(metadata).toEqual(before);
  });

  it("copies a key named __proto__ as an ordinary key, never as a prototype", () => {
    const { metadata } = scrubMetadata(JSON.parse('{"__proto__": {"polluted": "a@b.io"}}'));
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(Object.hasOwn(metadata, "__proto__")).toBe(true);
    expect(JSON.stringify(metadata)).toBe('{"__proto__":{"polluted":"[email]"}}');
  });

  it.each([
    ["'a@' repeated", "a@".repeat(8000), "a@".repeat(8000)],
    ["a key block that never ends", "-----BEGIN PRIVATE KEY-----".repeat(600), "[REDACTED]"],
    ["'eyJ' repeated", "eyJ".repeat(5000), "eyJ".repeat(5000)],
    ["a dotted run", "a.".repeat(8000), "a.".repeat(8000)],
    ["a run of slashes", "/".repeat(16_000), "/".repeat(16_000)],
    ["a URL password with no host", `x://a:${"b".repeat(16_000)}`, `x://a:${"b".repeat(16_000)}`],
    ["'Bearer' and spaces", `Bearer ${" ".repeat(16_000)}`, `Bearer ${" ".repeat(16_000)}`],
    ["a home path of words", `/home/${"a ".repeat(8000)}`, `/home/[user] ${"a ".repeat(7999)}`],
    ["'ghp_' repeated", "ghp_".repeat(4000), "ghp_".repeat(4000)],
    ["a long local part", `${"a".repeat(16_000)}@`, `${"a".repeat(16_000)}@`],
  ])("returns for a hostile 16 KiB string: %s", (_name, text, expected) => {
    expect(scrubText(text)[0]).toBe(expected);
  });
});
