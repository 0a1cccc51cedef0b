import { ConfigError, loadConfig } from "../../lib/config.ts";
import { ingest } from "../../lib/http/endpoints/ingest.ts";
import { reportHealth } from "../../lib/http/endpoints/report-health.ts";
import { expectError } from "../support/answers.ts";
import { describe, expect, it, test } from "../support/fixtures.ts";
import {
  ENDPOINT,
  SECRET,
  ORIGIN,
  dir,
  runtime,
  use,
  post,
  preflight,
  flush,
  storedFiles,
  storedLines,
  stored,
  event,
  setUpProtocol,
} from "../support/ingest-protocol.ts";

/* The ingest protocol as a client sees it: Who may post: the shared secret, CORS, and the client types that are dropped. */
setUpProtocol();

describe("shared secret", () => {
  test.beforeEach(() => {
    use({ TELEMETRY_SECRET: SECRET, TELEMETRY_ALLOWED_ORIGINS: ORIGIN });
  });

  it("401 unauthorized with WWW-Authenticate for a missing or wrong key, storing nothing", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { "x-telemetry-key": SECRET.slice(0, -1) },
      { "x-telemetry-key": `${SECRET}x` },
      { authorization: `Bearer ${SECRET.toUpperCase()}` },
      { authorization: SECRET },
    ];
    for (const headers of attempts) {
      const response = await post(event(), { headers });
      await expectError(response, 401, "unauthorized");
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
    }
    expect(await storedLines()).toEqual([]);
  });

  it("accepts the key in X-Telemetry-Key or as Authorization: Bearer", async () => {
    expect((await post(event(), { headers: { "x-telemetry-key": SECRET } })).status).toBe(201);
    expect((await post(event(), { headers: { authorization: `Bearer ${SECRET}` } })).status).toBe(201);
    expect(await storedLines()).toHaveLength(2);
  });

  it("never puts the secret in an answer", async () => {
    const key = { "x-telemetry-key": SECRET };
    const responses = [
      await post(event()),
      await post(event(), { headers: { authorization: `Bearer ${SECRET}-wrong` } }),
      await post(event(), { headers: key }),
      await post(event({ hwid: "" }), { headers: key }),
      await post("{", { headers: key }),
      await post(event(), { headers: { ...key, "content-type": "application/xml" } }),
      await ingest(new Request(ENDPOINT, { method: "GET", headers: key }), { runtime }),
      await preflight(ORIGIN),
    ];
    for (const response of responses) {
      const text = `${JSON.stringify([...response.headers])}\n${await response.text()}`;
      expect(text).not.toContain(SECRET);
    }
  });

  it("refuses a secret shorter than 16 characters at configuration, without quoting it", () => {
    const short = "fifteen-chars-x";
    let refusal: unknown;
    try {
      loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SECRET: short });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as Error).message).toMatch(/TELEMETRY_SECRET/);
    expect((refusal as Error).message).not.toContain(short);
    expect(loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SECRET: `${short}y` }).ingest.secret).toBe(`${short}y`);
  });
});

describe("CORS", () => {
  const corsHeadersOf = (response: Response) =>
    [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));
  const listed = (response: Response, name: string) =>
    (response.headers.get(name) ?? "").split(",").map((item) => item.trim().toLowerCase());

  test.beforeEach(() => {
    use({ TELEMETRY_ALLOWED_ORIGINS: `${ORIGIN}, https://other.example.org` });
  });

  it("answers a preflight from an allowed origin with 204 and what a page may send", async () => {
    const response = await preflight(ORIGIN);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(listed(response, "access-control-allow-methods")).toContain("post");
    expect(listed(response, "access-control-allow-headers")).toEqual(
      expect.arrayContaining(["content-type", "content-encoding", "x-telemetry-key", "idempotency-key"]),
    );
  });

  it("answers a preflight from another origin with 204 and no access-control-* header", async () => {
    const response = await preflight("https://evil.example.net");
    expect(response.status).toBe(204);
    expect(corsHeadersOf(response)).toEqual([]);
  });

  it("lets a page of an allowed origin read the answer to its POST, and a client without Origin post as before", async () => {
    const allowed = await post(event(), { headers: { origin: ORIGIN } });
    expect(allowed.status).toBe(201);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const desktop = await post(event());
    expect(desktop.status).toBe(201);
    expect(corsHeadersOf(desktop)).toEqual([]);
    expect(await stored()).toHaveLength(2);
  });

  it("refuses a POST from a page of another origin with 403 origin_not_allowed, storing nothing, even as text/plain", async () => {
    for (const origin of ["https://evil.example.net", "null"]) {
      const refused = await post(event(), { headers: { origin, "content-type": "text/plain" } });
      await expectError(refused, 403, "origin_not_allowed");
      expect(corsHeadersOf(refused)).toEqual([]);
    }
    expect(await storedFiles()).toEqual([]);
  });

  it('allows any origin with "*"', async () => {
    use({ TELEMETRY_ALLOWED_ORIGINS: "*" });
    const pre = await preflight("https://anywhere.example");
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(listed(pre, "access-control-allow-headers")).toContain("x-telemetry-key");
    expect(
      (await post(event(), { headers: { origin: "https://anywhere.example" } })).headers.get(
        "access-control-allow-origin",
      ),
    ).toBe("*");
  });

  it("with a secret, answers a preflight without one, and lets the page read a 401", async () => {
    use({ TELEMETRY_ALLOWED_ORIGINS: ORIGIN, TELEMETRY_SECRET: SECRET });
    const pre = await preflight(ORIGIN);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const refused = await post(event(), { headers: { origin: ORIGIN } });
    await expectError(refused, 401, "unauthorized");
    expect(refused.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });
});

describe("dropped client types", () => {
  it('answers 201 for "unit-tests" events (the default list) and stores none of them', async () => {
    expect(await (await post(event({ client_type: "unit-tests" }))).json()).toEqual({
      status: "success",
      accepted: 1,
      rejected: [],
    });
    const response = await post([event({ client_type: "unit-tests" }), event(), event({ client_type: "unit-tests" })]);
    expect(await response.json()).toEqual({ status: "success", accepted: 3, rejected: [] });
    expect((await stored()).map((record) => record.client_type)).toEqual(["vector-inspector"]);
  });

  it("with the spool, counts them by client type in health once flushed", async () => {
    use({}, { spool: true });
    await post(event({ client_type: "unit-tests" }));
    await post([event({ client_type: "unit-tests" }), event(), event({ client_type: "unit-tests" })]);
    await flush();
    const health = await (await reportHealth(new Request("http://localhost/api/v1/health"), runtime)).json();
    expect(health.spool.dropped_events).toEqual({ "unit-tests": 3 });
    expect(await storedLines()).toHaveLength(1);
  });

  it("stores them with TELEMETRY_DROP_CLIENT_TYPES=none", async () => {
    use({ TELEMETRY_DROP_CLIENT_TYPES: "none" });
    await post(event({ client_type: "unit-tests" }));
    expect((await stored()).map((record) => record.client_type)).toEqual(["unit-tests"]);
  });

  it("drops the types of a custom list, and only those", async () => {
    use({ TELEMETRY_DROP_CLIENT_TYPES: "ci, smoke-test" });
    const response = await post(
      ["ci", "smoke-test", "unit-tests", "vector-inspector"].map((type) => event({ client_type: type })),
    );
    expect(await response.json()).toMatchObject({ accepted: 4, rejected: [] });
    expect((await stored()).map((record) => record.client_type)).toEqual(["unit-tests", "vector-inspector"]);
  });
});
