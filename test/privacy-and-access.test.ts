import { spoolStoreOf } from "../lib/platform/spool-blobs.ts";
import { describe, expect, it } from "vitest";
import { anonymizeIp } from "../lib/events/anonymize-ip.ts";
import { checkSecret } from "../lib/http/check-secret.ts";
import { ConfigError, loadConfig } from "../lib/config.ts";
import { corsHeaders, preflightResponse } from "../lib/http/cors-headers.ts";
import { metadataViolations } from "../lib/events/known-events.ts";

const SALT = "a-salt-of-sixteen-chars";
const SECRET = "s3cret-shared-key-123";

describe("client addresses, as TELEMETRY_IP_MODE keeps them", () => {
  it("full keeps the address, an IPv4-mapped IPv6 one as the IPv4 it is", () => {
    expect(anonymizeIp("203.0.113.7", "full", undefined)).toBe("203.0.113.7");
    expect(anonymizeIp("::ffff:203.0.113.7", "full", undefined)).toBe("203.0.113.7");
  });

  it("truncate keeps an IPv4 /24 and an IPv6 /48", () => {
    expect(anonymizeIp("203.0.113.7", "truncate", undefined)).toBe("203.0.113.0");
    expect(anonymizeIp("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "truncate", undefined)).toBe("2001:db8:85a3::");
    expect(anonymizeIp("2001:db8::1", "truncate", undefined)).toBe("2001:db8::");
    expect(anonymizeIp("2001:0:85a3::1", "truncate", undefined)).toBe("2001:0:85a3::");
    expect(anonymizeIp("::1", "truncate", undefined)).toBe("::");
    expect(anonymizeIp("::ffff:198.51.100.23", "truncate", undefined)).toBe("198.51.100.0");
  });

  it("hash gives 16 hex characters, stable for one salt, different for another, whatever the spelling of the address", () => {
    const hashed = anonymizeIp("2001:DB8::1", "hash", SALT);
    expect(hashed).toMatch(/^[0-9a-f]{16}$/);
    expect(anonymizeIp("2001:db8::1", "hash", SALT)).toBe(hashed);
    expect(anonymizeIp("2001:db8::1", "hash", `${SALT}-other`)).not.toBe(hashed);
    expect(anonymizeIp("::ffff:203.0.113.7", "hash", SALT)).toBe(anonymizeIp("203.0.113.7", "hash", SALT));
  });

  it("off keeps nothing, and no address stays no address", () => {
    expect(anonymizeIp("203.0.113.7", "off", undefined)).toBeNull();
    expect(anonymizeIp(null, "full", undefined)).toBeNull();
  });

  it("hash without a salt is a configuration error, named without any value", () => {
    expect(() => loadConfig({ TELEMETRY_IP_MODE: "hash" })).toThrow(/TELEMETRY_IP_SALT/);
    expect(() => loadConfig({ TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: "short" })).toThrow(ConfigError);
    expect(loadConfig({ TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: SALT }).ingest).toMatchObject({
      ipMode: "hash",
      ipSalt: SALT,
    });
    expect(() => loadConfig({ TELEMETRY_IP_MODE: "partial" })).toThrow(/TELEMETRY_IP_MODE/);
  });
});

describe("the shared secret", () => {
  const request = (headers: Record<string, string>) =>
    new Request("http://localhost/api/v1/telemetry", { method: "POST", headers });

  it("is taken from X-Telemetry-Key or Authorization: Bearer", () => {
    expect(checkSecret(request({ "x-telemetry-key": SECRET }), SECRET)).toBe(true);
    expect(checkSecret(request({ authorization: `Bearer ${SECRET}` }), SECRET)).toBe(true);
    expect(checkSecret(request({ authorization: `bearer ${SECRET}` }), SECRET)).toBe(true);
  });

  it("refuses a missing, wrong, longer or shorter key, and a key sent as Basic", () => {
    expect(checkSecret(request({}), SECRET)).toBe(false);
    expect(checkSecret(request({ "x-telemetry-key": "wrong" }), SECRET)).toBe(false);
    expect(checkSecret(request({ "x-telemetry-key": `${SECRET}x` }), SECRET)).toBe(false);
    expect(checkSecret(request({ "x-telemetry-key": SECRET.slice(0, -1) }), SECRET)).toBe(false);
    expect(checkSecret(request({ authorization: `Basic ${SECRET}` }), SECRET)).toBe(false);
  });

  it("must be at least 16 characters", () => {
    expect(() => loadConfig({ TELEMETRY_SECRET: "too-short" })).toThrow(/TELEMETRY_SECRET/);
    expect(() => loadConfig({ TELEMETRY_SECRET: "too-short" })).not.toThrow(/too-short/);
  });
});

describe("CORS", () => {
  const from = (origin: string | undefined, method = "POST") =>
    new Request("http://localhost/api/v1/telemetry", { method, headers: origin ? { origin } : {} });

  it("answers an allowed origin with itself, a disallowed one with no CORS header, and `*` with any", () => {
    const allowed = ["https://app.example.com"];
    expect(corsHeaders(from("https://app.example.com"), allowed)).toMatchObject({
      "access-control-allow-origin": "https://app.example.com",
      vary: "Origin",
    });
    expect(corsHeaders(from("https://evil.example"), allowed)).not.toHaveProperty("access-control-allow-origin");
    expect(corsHeaders(from("https://evil.example"), "*")).toEqual({ "access-control-allow-origin": "*" });
    expect(corsHeaders(from(undefined), "*")).toEqual({});
  });

  it("answers a preflight 204, with the methods and headers a client needs only for an allowed origin", () => {
    const ok = preflightResponse(from("https://app.example.com", "OPTIONS"), ["https://app.example.com"]);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-methods")).toContain("POST");
    for (const header of ["content-type", "content-encoding", "x-telemetry-key", "idempotency-key"]) {
      expect(ok.headers.get("access-control-allow-headers")).toContain(header);
    }
    const refused = preflightResponse(from("https://evil.example", "OPTIONS"), ["https://app.example.com"]);
    expect(refused.status).toBe(204);
    expect([...refused.headers.keys()].filter((name) => name.startsWith("access-control-"))).toEqual([]);
  });

  it("reads TELEMETRY_ALLOWED_ORIGINS as `*` or a list of origins, and refuses anything else", () => {
    expect(loadConfig({}).ingest.allowedOrigins).toEqual([]);
    expect(loadConfig({ TELEMETRY_ALLOWED_ORIGINS: "*" }).ingest.allowedOrigins).toBe("*");
    expect(
      loadConfig({ TELEMETRY_ALLOWED_ORIGINS: "https://a.example, http://localhost:5173" }).ingest.allowedOrigins,
    ).toEqual(["https://a.example", "http://localhost:5173"]);
    expect(() => loadConfig({ TELEMETRY_ALLOWED_ORIGINS: "a.example" })).toThrow(/TELEMETRY_ALLOWED_ORIGINS/);
    expect(() => loadConfig({ TELEMETRY_ALLOWED_ORIGINS: "https://a.example/path" })).toThrow(
      /TELEMETRY_ALLOWED_ORIGINS/,
    );
  });
});

describe("the known events' metadata", () => {
  it("finds nothing wrong with the seeds' examples, nor with an unknown event's free metadata", () => {
    expect(
      metadataViolations("sample_db.create_completed", {
        db_type: "chroma",
        rows_created: 1234,
        duration_ms: 5423,
        success: true,
      }),
    ).toEqual([]);
    expect(
      metadataViolations("app_launch", { os: "Linux-6.1-x86_64-with-glibc2.36", hardware: { error: "no gpu" } }),
    ).toEqual([]);
    expect(metadataViolations("my.custom_event", { anything: [1, { deep: true }] })).toEqual([]);
  });

  it("keeps fields it does not know, and takes null for a field not given", () => {
    expect(metadataViolations("query.executed", { result_count: 3, new_field: "x", db_type: null })).toEqual([]);
  });

  it("names each field of the wrong type, and a required field that is missing", () => {
    expect(
      metadataViolations("db.connection_result", { success: "yes", duration_ms: -1 }).map((issue) => issue.path),
    ).toEqual(["metadata.success", "metadata.duration_ms"]);
    expect(
      metadataViolations("feature.toggled", { feature_name: "advanced_clustering" }).map((issue) => issue.path),
    ).toEqual(["metadata.new_value"]);
    expect(metadataViolations("query.executed", { sampling_rate: 5 }).map((issue) => issue.path)).toEqual([
      "metadata.sampling_rate",
    ]);
  });

  it("reads TELEMETRY_SCHEMA_MODE and TELEMETRY_DROP_CLIENT_TYPES", () => {
    expect(loadConfig({ TELEMETRY_SCHEMA_MODE: "strict" }).ingest.schemaMode).toBe("strict");
    expect(() => loadConfig({ TELEMETRY_SCHEMA_MODE: "loose" })).toThrow(/TELEMETRY_SCHEMA_MODE/);
    expect(loadConfig({ TELEMETRY_DROP_CLIENT_TYPES: "none" }).ingest.dropClientTypes).toEqual([]);
    expect(loadConfig({ TELEMETRY_DROP_CLIENT_TYPES: "unit-tests, ci" }).ingest.dropClientTypes).toEqual([
      "unit-tests",
      "ci",
    ]);
  });
});

describe("whose spool a deploy uses", () => {
  it.each([
    ["production", true, "site"],
    ["production", undefined, "site"],
    ["production", false, "deploy"],
    ["deploy-preview", undefined, "deploy"],
    ["deploy-preview", false, "deploy"],
    ["branch-deploy", undefined, "deploy"],
    ["branch-deploy", true, "deploy"],
    ["dev", undefined, "site"],
    ["", undefined, "site"],
    [undefined, undefined, "site"],
  ] as const)(
    "context %s (published: %s) uses the %s store: only the published production deploy touches production's spool",
    (context, published, scope) => {
      expect(spoolStoreOf(context, published)).toBe(scope);
    },
  );
});
