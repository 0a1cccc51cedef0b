import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

/**
 * Every Netlify function, as the platform calls it, on a deploy whose configuration is wrong: each
 * answers the same code and message for the same mistake, naming the setting and never its value.
 */
const SITE = "https://telemetry.example";
const TOKEN = "ghp_a-token-that-must-not-show";
const SHORT_SECRET = "too-short";
const event = { hwid: "h", event_name: "app_launch", app_version: "1.0.0" };

/** Each function with a request it would be sent: by a client, a job's caller, or the schedule. */
const CALLS: { name: string; method: string; path: string; body?: string }[] = [
  { name: "erasure", method: "POST", path: "/api/v1/erasure", body: JSON.stringify({ hwid: "h" }) },
  { name: "flush", method: "POST", path: "/api/v1/jobs/flush" },
  { name: "publish", method: "POST", path: "/api/v1/jobs/publish" },
  { name: "retention", method: "POST", path: "/api/v1/jobs/retention" },
  { name: "erase-background", method: "POST", path: "/api/v1/jobs/erase" },
  { name: "flush-spool", method: "POST", path: "/.netlify/functions/flush-spool" },
  { name: "publish-insights", method: "POST", path: "/.netlify/functions/publish-insights" },
  { name: "apply-retention", method: "POST", path: "/.netlify/functions/apply-retention" },
  { name: "erase-pending", method: "POST", path: "/.netlify/functions/erase-pending" },
];

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function callEach(): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  const context = { deploy: { context: "production", published: true }, waitUntil: () => {} };
  const headers = { "content-type": "application/json", "x-telemetry-key": "some-key-of-the-caller" };
  for (const { name, method, path, body } of CALLS) {
    const { default: handle } = (await import(`../netlify/functions/${name}.ts`)) as {
      default: (request: Request, context: unknown) => Promise<Response>;
    };
    const response = await handle(new Request(`${SITE}${path}`, { method, headers, body: body ?? null }), context);
    answers.set(name, { status: response.status, headers: response.headers, text: await response.text() });
  }
  const { handler } = await import("../netlify/functions/telemetry.ts");
  const result = (await handler(
    {
      rawUrl: `${SITE}/api/v1/telemetry`,
      rawQuery: "",
      path: "/api/v1/telemetry",
      httpMethod: "POST",
      // The Lambda-compatible function reads its deploy where Netlify puts it: the event's headers.
      headers: {
        "content-type": "application/json",
        "x-nf-deploy-context": "production",
        "x-nf-deploy-id": "6570aaaabbbbccccddddeeee",
        "x-nf-deploy-published": "1",
      },
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      body: JSON.stringify(event),
      isBase64Encoded: false,
    },
    {} as never,
  )) as { statusCode: number; headers: Record<string, string>; body: string };
  answers.set("telemetry", { status: result.statusCode, headers: new Headers(result.headers), text: result.body });
  return answers;
}

function stubEnv(vars: Record<string, string>): void {
  for (const [name, value] of Object.entries({ CONTEXT: "production", ...vars })) vi.stubEnv(name, value);
}

beforeEach(() => {
  // Each function keeps the runtime of its first call: every test loads them afresh.
  vi.resetModules();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("a misconfigured deploy", () => {
  it("answers 503 service_misconfigured from every endpoint for an invalid TELEMETRY_SECRET, naming it, never its value", async () => {
    stubEnv({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data", TELEMETRY_SECRET: SHORT_SECRET });
    const answers = await callEach();
    expect([...answers.keys()].sort()).toEqual([...CALLS.map((c) => c.name), "telemetry"].sort());
    for (const [name, answer] of answers) {
      expect({ name, status: answer.status }).toEqual({ name, status: 503 });
      const body = JSON.parse(answer.text);
      expect(body, name).toEqual({
        status: "error",
        error: "service_misconfigured",
        message: expect.stringContaining("TELEMETRY_SECRET"),
      });
      expect(Number(answer.headers.get("retry-after")), name).toBeGreaterThan(0);
      expect(answer.text, name).not.toContain(SHORT_SECRET);
      expect(answer.text, name).not.toContain(TOKEN);
    }
  });

  it("answers 503 storage_not_configured from every endpoint when GitHub is not set up, naming what to set", async () => {
    stubEnv({ GITHUB_REPOSITORY: "acme/data" });
    for (const [name, answer] of await callEach()) {
      expect({ name, status: answer.status }).toEqual({ name, status: 503 });
      expect(JSON.parse(answer.text), name).toEqual({
        status: "error",
        error: "storage_not_configured",
        message: expect.stringContaining("GITHUB_TOKEN"),
      });
    }
  });

  it("has health fail with the same code and message", async () => {
    stubEnv({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data", TELEMETRY_SECRET: SHORT_SECRET });
    const { default: health } = await import("../netlify/functions/health.ts");
    const response = await health(new Request(`${SITE}/api/v1/health`), { deploy: { context: "production" } } as never);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      status: "failing",
      reasons: [
        { reason: "service_misconfigured", severity: "failing", message: expect.stringContaining("TELEMETRY_SECRET") },
      ],
    });
    expect(text).not.toContain(SHORT_SECRET);
  });
});

/** The functions a caller starts a job with, at the rate-limited path each answers on. */
const JOBS = [
  { name: "flush", path: "/api/v1/jobs/flush" },
  { name: "publish", path: "/api/v1/jobs/publish" },
  { name: "retention", path: "/api/v1/jobs/retention" },
  { name: "erase-background", path: "/api/v1/jobs/erase" },
];
const APP_SECRET = "the-secret-every-install-holds";

async function callJob(name: string, path: string, key: string): Promise<Response> {
  const { default: handle } = (await import(`../netlify/functions/${name}.ts`)) as {
    default: (request: Request, context: unknown) => Promise<Response>;
  };
  const context = { deploy: { context: "production", published: true }, waitUntil: () => {} };
  return handle(new Request(`${SITE}${path}`, { method: "POST", headers: { "x-telemetry-key": key } }), context);
}

describe("the job functions", () => {
  it("refuse the app's secret with 401 on every job, and take only the jobs' key", async () => {
    stubEnv({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data", TELEMETRY_SECRET: APP_SECRET });
    for (const { name, path } of JOBS) {
      const refused = await callJob(name, path, APP_SECRET);
      expect({ name, status: refused.status }).toEqual({ name, status: 401 });
      expect(await refused.json(), name).toMatchObject({ error: "unauthorized" });
    }
  });

  it("answer 404 at the function's own /.netlify/functions/ path, which no rate limit covers, even with the key", async () => {
    const adminKey = "an-operator-key-of-at-least-32-characters";
    stubEnv({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/data", TELEMETRY_ADMIN_KEY: adminKey });
    for (const { name, path } of JOBS) {
      const around = await callJob(name, `/.netlify/functions/${name}`, adminKey);
      expect({ name, status: around.status }).toEqual({ name, status: 404 });
      expect(await around.json(), name).toMatchObject({ error: "not_found", message: expect.stringContaining(path) });
    }
  });
});
