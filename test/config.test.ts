import { systemClock } from "../lib/clock.ts";
import { describe, expect, it } from "vitest";
import { ConfigError, deployContextOf, loadConfig } from "../lib/config.ts";
import { reportHealth } from "../lib/http/endpoints/report-health.ts";
import { openRepository } from "../lib/storage/open-repository.ts";

const TOKEN = "test-token-do-not-leak";
const ADMIN_KEY = "an-operator-key-of-at-least-32-characters";

describe("configuration", () => {
  it("uses the local folder under netlify dev and outside Netlify when no GitHub variable is set", () => {
    for (const context of [undefined, "", "dev"]) {
      expect(loadConfig({}, context)).toEqual({
        deployContext: context,
        netlifyDev: context !== undefined,
        storage: { kind: "local", dir: ".telemetry-data" },
        pathPrefix: "telemetry",
        maxFileBytes: 1024 * 1024,
        // A local folder is not paced like GitHub.
        spool: { enabled: true, limits: { perMinute: Infinity, perHour: Infinity } },
        health: { maxWaitMs: 15 * 60_000 },
        flushKey: undefined,
        siteUrl: undefined,
        retentionDays: undefined,
        history: "keep",
        alerts: ["error_group", "release_health", "silence", "credentials"],
        ingest: {
          secret: undefined,
          allowedOrigins: [],
          dropClientTypes: ["unit-tests"],
          schemaMode: "lenient",
          ipMode: "full",
          ipSalt: undefined,
          hwidMode: "full",
          hwidSalt: undefined,
          hwidPreviousSalt: undefined,
          scrub: true,
          geo: true,
        },
      });
    }
    expect(loadConfig({ TELEMETRY_LOCAL_DIR: "/tmp/x", TELEMETRY_PATH_PREFIX: "/events/v1/" }).storage).toEqual({
      kind: "local",
      dir: "/tmp/x",
    });
    expect(loadConfig({ TELEMETRY_PATH_PREFIX: "/events/v1/" }).pathPrefix).toBe("events/v1");
  });

  it("refuses to run a deployed site without GitHub, naming the variables to set", () => {
    for (const context of ["production", "deploy-preview", "branch-deploy"]) {
      expect(() => loadConfig({}, context)).toThrow(ConfigError);
      expect(() => loadConfig({}, context)).toThrow(/GITHUB_TOKEN and GITHUB_REPOSITORY/);
    }
  });

  it("reads GitHub settings, with the original design's owner and name variables as an alternative", () => {
    expect(loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data" }, "production").storage).toEqual({
      kind: "github",
      github: {
        credentials: { kind: "token", token: TOKEN },
        owner: "acme",
        repo: "data",
        branch: undefined,
        apiUrl: "https://api.github.com",
      },
    });
    const config = loadConfig({
      GITHUB_TOKEN: TOKEN,
      GITHUB_REPO_OWNER: "acme",
      GITHUB_REPO_NAME: "data",
      GITHUB_BRANCH: "telemetry",
      GITHUB_API_URL: "https://ghe.example.com/api/v3/",
      TELEMETRY_MAX_FILE_BYTES: "131072",
    });
    expect(config.storage).toEqual({
      kind: "github",
      github: {
        credentials: { kind: "token", token: TOKEN },
        owner: "acme",
        repo: "data",
        branch: "telemetry",
        apiUrl: "https://ghe.example.com/api/v3",
      },
    });
    expect(config.maxFileBytes).toBe(131072);
  });

  it("takes a GitHub App's id, private key (its line breaks as \\n or as they are) and installation instead of a token", () => {
    const key = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEow\\n-----END RSA PRIVATE KEY-----";
    const config = loadConfig({
      GITHUB_APP_ID: "123456",
      GITHUB_APP_PRIVATE_KEY: key,
      GITHUB_APP_INSTALLATION_ID: "7890",
      GITHUB_REPOSITORY: "acme/data",
    });
    expect(config.storage).toMatchObject({
      github: {
        credentials: {
          kind: "app",
          appId: "123456",
          installationId: 7890,
          privateKey: "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
        },
      },
    });
    expect(config.flushKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => loadConfig({ GITHUB_APP_ID: "123456", GITHUB_REPOSITORY: "acme/data" })).toThrow(
      /set GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID$/,
    );
    expect(() => loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_APP_ID: "1", GITHUB_REPOSITORY: "acme/data" })).toThrow(
      /either GITHUB_TOKEN or a GitHub App/,
    );
    expect(() =>
      loadConfig({
        GITHUB_APP_ID: "1",
        GITHUB_APP_PRIVATE_KEY: "not a key",
        GITHUB_APP_INSTALLATION_ID: "2",
        GITHUB_REPOSITORY: "a/b",
      }),
    ).toThrow(/GITHUB_APP_PRIVATE_KEY must be the app's private key/);
  });

  it("tells missing storage settings (storage_not_configured) from a setting that is wrong (service_misconfigured)", () => {
    const codeOf = (env: Record<string, string>, context?: string) => {
      try {
        loadConfig(env, context);
      } catch (error) {
        return error instanceof ConfigError ? error.code : error;
      }
      return "configured";
    };
    expect(codeOf({}, "production")).toBe("storage_not_configured");
    expect(codeOf({ GITHUB_REPOSITORY: "acme/data" })).toBe("storage_not_configured");
    const github = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data" };
    expect(codeOf({ ...github, TELEMETRY_SECRET: "too-short" })).toBe("service_misconfigured");
    expect(codeOf({ ...github, GITHUB_REPOSITORY: "not a repo" })).toBe("service_misconfigured");
    expect(codeOf({ ...github, TELEMETRY_IP_MODE: "hash" })).toBe("service_misconfigured");
  });

  it("names what is missing when GitHub is partly configured, and never echoes the token", () => {
    expect(() => loadConfig({ GITHUB_TOKEN: TOKEN })).toThrow(/set GITHUB_REPOSITORY/);
    expect(() => loadConfig({ GITHUB_REPOSITORY: "acme/data" })).toThrow(/set GITHUB_TOKEN$/);
    expect(() => loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_REPO_OWNER: "acme" })).toThrow(/GITHUB_REPO_NAME/);
    try {
      loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "not a repo", GITHUB_API_URL: "ftp://x" });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/GITHUB_REPOSITORY must be "owner\/name"/);
      expect((error as Error).message).toMatch(/GITHUB_API_URL/);
      expect((error as Error).message).not.toContain(TOKEN);
    }
  });

  it("turns the spool off and sets the write pace on request, refusing values that are not counts", () => {
    const config = loadConfig({
      GITHUB_TOKEN: TOKEN,
      GITHUB_REPOSITORY: "acme/data",
      TELEMETRY_SPOOL: "off",
      TELEMETRY_WRITES_PER_MINUTE: "30",
      TELEMETRY_WRITES_PER_HOUR: "200",
    });
    expect(config.spool).toEqual({ enabled: false, limits: { perMinute: 30, perHour: 200 } });
    expect(() => loadConfig({ TELEMETRY_SPOOL: "maybe" })).toThrow(/TELEMETRY_SPOOL/);
    expect(() => loadConfig({ TELEMETRY_WRITES_PER_MINUTE: "0" })).toThrow(/TELEMETRY_WRITES_PER_MINUTE/);
    expect(() => loadConfig({ TELEMETRY_WRITES_PER_HOUR: "1.5" })).toThrow(/TELEMETRY_WRITES_PER_HOUR/);
  });

  it("tells a deployed function from netlify dev by the environment when no deploy context is given", () => {
    expect(deployContextOf({ NETLIFY_DEV: "true", AWS_LAMBDA_FUNCTION_NAME: "handler", CONTEXT: "dev" })).toBe("dev");
    expect(deployContextOf({ CONTEXT: "deploy-preview", AWS_LAMBDA_FUNCTION_NAME: "telemetry" })).toBe(
      "deploy-preview",
    );
    expect(deployContextOf({ AWS_LAMBDA_FUNCTION_NAME: "telemetry" })).toBe("production");
    expect(deployContextOf({})).toBeUndefined();
    expect(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: "telemetry" })).toThrow(/GITHUB_TOKEN and GITHUB_REPOSITORY/);
    expect(loadConfig({ NETLIFY_DEV: "true", AWS_LAMBDA_FUNCTION_NAME: "handler" }).storage.kind).toBe("local");
  });

  it.each([
    ["TELEMETRY_WRITES_PER_MINUTE", "81", /TELEMETRY_WRITES_PER_MINUTE must be at most 80 \(GitHub's limit\)/],
    ["TELEMETRY_WRITES_PER_HOUR", "501", /TELEMETRY_WRITES_PER_HOUR must be at most 500 \(GitHub's limit\)/],
    ["TELEMETRY_MAX_FILE_BYTES", String(64 * 1024 - 1), /TELEMETRY_MAX_FILE_BYTES/],
    ["TELEMETRY_MAX_FILE_BYTES", String(10 * 1024 * 1024 + 1), /TELEMETRY_MAX_FILE_BYTES/],
    ["GITHUB_API_URL", "http://ghe.example.com/api/v3", /GITHUB_API_URL must use https/],
    ["GITHUB_API_URL", "http://10.0.0.5:8080", /GITHUB_API_URL must use https/],
  ])("refuses a dangerous setting at start: %s=%s", (name, value, message) => {
    expect(() => loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data", [name]: value })).toThrow(message);
  });

  it("takes GitHub's own limits, the cap's bounds, and plain http to this machine only", () => {
    const config = loadConfig({
      GITHUB_TOKEN: TOKEN,
      GITHUB_REPOSITORY: "acme/data",
      TELEMETRY_WRITES_PER_MINUTE: "80",
      TELEMETRY_WRITES_PER_HOUR: "500",
      TELEMETRY_MAX_FILE_BYTES: String(64 * 1024),
    });
    expect(config.spool.limits).toEqual({ perMinute: 80, perHour: 500 });
    expect(loadConfig({ TELEMETRY_MAX_FILE_BYTES: String(10 * 1024 * 1024) }).maxFileBytes).toBe(10 * 1024 * 1024);
    for (const url of ["http://127.0.0.1:8080", "http://localhost:3000/api", "http://[::1]:9000"]) {
      expect(
        loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data", GITHUB_API_URL: url }).storage.kind,
      ).toBe("github");
    }
  });

  it("gives the jobs a key clients never hold: TELEMETRY_ADMIN_KEY, else one derived from the GitHub credential, never the app's secret", () => {
    const github = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data" };
    const derived = loadConfig(github).flushKey!;
    expect(derived).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(derived).not.toContain(TOKEN);
    expect(loadConfig(github).flushKey).toBe(derived);
    expect(loadConfig({ ...github, GITHUB_TOKEN: `${TOKEN}x` }).flushKey).not.toBe(derived);
    // The app's secret ships in every desktop install: it is never the jobs' key.
    expect(loadConfig({ ...github, TELEMETRY_SECRET: "a-shared-secret-of-length" }).flushKey).toBe(derived);
    expect(loadConfig({ TELEMETRY_SECRET: "a-shared-secret-of-length" }).flushKey).toBeUndefined();
    expect(loadConfig({ ...github, TELEMETRY_ADMIN_KEY: ADMIN_KEY }).flushKey).toBe(ADMIN_KEY);
    expect(loadConfig({ TELEMETRY_ADMIN_KEY: ADMIN_KEY }).flushKey).toBe(ADMIN_KEY);
    expect(loadConfig({}).flushKey).toBeUndefined();
  });

  it("refuses a TELEMETRY_ADMIN_KEY under 32 characters or equal to the app's secret, naming it, never its value", () => {
    const short = "an-admin-key-too-short";
    expect(() => loadConfig({ TELEMETRY_ADMIN_KEY: short })).toThrow(/TELEMETRY_ADMIN_KEY must be at least 32/);
    expect(() => loadConfig({ TELEMETRY_ADMIN_KEY: short })).not.toThrow(new RegExp(short));
    const shared = { TELEMETRY_ADMIN_KEY: ADMIN_KEY, TELEMETRY_SECRET: ADMIN_KEY };
    expect(() => loadConfig(shared)).toThrow(/TELEMETRY_ADMIN_KEY must differ from TELEMETRY_SECRET/);
    expect(() => loadConfig(shared)).not.toThrow(new RegExp(ADMIN_KEY));
  });

  it('keeps the NDJSON tree at the repository\'s root for TELEMETRY_PATH_PREFIX="" (unset: telemetry)', () => {
    expect(loadConfig({ TELEMETRY_PATH_PREFIX: "" }).pathPrefix).toBe("");
    expect(loadConfig({ TELEMETRY_PATH_PREFIX: "/" }).pathPrefix).toBe("");
    expect(loadConfig({}).pathPrefix).toBe("telemetry");
  });

  it("calls the flush function at the deploy's own URL, DEPLOY_URL before URL", () => {
    expect(loadConfig({ URL: "https://telemetry.example.com" }).siteUrl).toBe("https://telemetry.example.com");
    expect(
      loadConfig({ URL: "https://telemetry.example.com", DEPLOY_URL: "https://abc--telemetry.netlify.app" }).siteUrl,
    ).toBe("https://abc--telemetry.netlify.app");
    expect(loadConfig({}).siteUrl).toBeUndefined();
  });

  it("refuses NETLIFY_DEV in a deployed context, and takes it under netlify dev", () => {
    const github = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data", NETLIFY_DEV: "true" };
    for (const context of ["production", "deploy-preview", "branch-deploy"]) {
      expect(() => loadConfig({ ...github, CONTEXT: context })).toThrow(/NETLIFY_DEV is set in a deployed context/);
      expect(() => loadConfig(github, context)).toThrow(/NETLIFY_DEV/);
    }
    expect(loadConfig({ ...github, CONTEXT: "dev", AWS_LAMBDA_FUNCTION_NAME: "handler" }).netlifyDev).toBe(true);
    expect(loadConfig(github, "dev").netlifyDev).toBe(true);
  });

  it("rejects a file size cap outside its bounds and a prefix that escapes the folder", () => {
    expect(() => loadConfig({ TELEMETRY_MAX_FILE_BYTES: "10" })).toThrow(/TELEMETRY_MAX_FILE_BYTES/);
    expect(() => loadConfig({ TELEMETRY_MAX_FILE_BYTES: "lots" })).toThrow(/TELEMETRY_MAX_FILE_BYTES/);
    expect(() => loadConfig({ TELEMETRY_PATH_PREFIX: "../elsewhere" })).toThrow(/TELEMETRY_PATH_PREFIX/);
  });
});

describe("GET /api/v1/health", () => {
  const SECRET = "a-shared-secret-of-length";
  const health = (config: Parameters<typeof openRepository>[0], { method = "GET", key = SECRET } = {}) =>
    reportHealth(new Request("http://localhost/api/v1/health", { method, headers: { "x-telemetry-key": key } }), {
      ok: true,
      ingest: config.ingest,
      netlifyDev: false,
      clock: systemClock,
      flushKey: config.flushKey,
      health: { maxWaitMs: 15 * 60_000 },
      store: openRepository(config, systemClock).store,
      spool: undefined,
      publish: () => Promise.reject(new Error("publishing is not part of this test")),
      retain: () => Promise.reject(new Error("retention is not part of this test")),
      erasure: undefined,
    });

  it("names the GitHub target, without the token, to the holder of the jobs' key only, never to the app's secret", async () => {
    const config = loadConfig({
      GITHUB_TOKEN: TOKEN,
      GITHUB_REPOSITORY: "acme/data",
      GITHUB_BRANCH: "events",
      TELEMETRY_SECRET: SECRET,
    });
    const withSecret = await (await health(config, { key: SECRET })).json();
    expect(withSecret).toEqual({ status: "ok", reasons: [], storage: "github", spool: { enabled: false } });
    const response = await health(config, { key: config.flushKey! });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      status: "ok",
      reasons: [],
      storage: "github",
      repository: "acme/data",
      branch: "events",
      prefix: "telemetry",
      api_url: "https://api.github.com",
      max_file_bytes: 1048576,
      spool: { enabled: false },
    });
    expect(text).not.toContain(TOKEN);
  });

  it("shows the status and reasons but not where events go to a caller without the jobs' key", async () => {
    for (const config of [
      loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data", TELEMETRY_SECRET: SECRET }),
      loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data" }),
    ]) {
      const text = await (await health(config, { key: "not-the-secret" })).text();
      expect(JSON.parse(text)).toEqual({ status: "ok", reasons: [], storage: "github", spool: { enabled: false } });
      expect(text).not.toContain("acme");
    }
  });

  it("names the local folder", async () => {
    const body = await (
      await health(loadConfig({ TELEMETRY_LOCAL_DIR: "/tmp/events", TELEMETRY_ADMIN_KEY: ADMIN_KEY }), {
        key: ADMIN_KEY,
      })
    ).json();
    expect(body).toMatchObject({ status: "ok", storage: "local", dir: "/tmp/events", prefix: "telemetry" });
  });

  it("answers 503 failing with the configuration problem, and 405 to other methods", async () => {
    const unconfigured = await reportHealth(new Request("http://localhost/api/v1/health"), {
      ok: false,
      error: new ConfigError(
        "GitHub storage is not configured: set GITHUB_TOKEN and GITHUB_REPOSITORY",
        "storage_not_configured",
      ),
    });
    expect(unconfigured.status).toBe(503);
    expect(await unconfigured.json()).toEqual({
      status: "failing",
      reasons: [
        { reason: "storage_not_configured", severity: "failing", message: expect.stringMatching(/GITHUB_TOKEN/) },
      ],
    });
    const post = await health(loadConfig({}), { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});
