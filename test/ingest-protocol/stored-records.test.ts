import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../lib/config.ts";
import { pseudonymizeHwid } from "../../lib/events/pseudonymize-hwid.ts";
import { storedEventSchema } from "../../lib/events/stored-event.ts";
import { expectError } from "../support/answers.ts";
import { describe, expect, it } from "../support/fixtures.ts";
import { dir, use, post, storedFiles, storedLines, stored, event, setUpProtocol } from "../support/ingest-protocol.ts";

/* The ingest protocol as a client sees it: What a stored record keeps: known events' metadata, install ids, client addresses, scrubbing, metadata's shape, the line itself, credentials refused. */
setUpProtocol();

describe("typed known events", () => {
  const registration = (metadata: Record<string, unknown>) =>
    event({ event_name: "model_registration", metadata: { model_name: "m", ...metadata } });

  it("lenient (the default): stores a known event whose metadata breaks its schema, with the violations", async () => {
    expect((await post(registration({ embedding_dimension: "768" }))).status).toBe(201);
    const [record] = await stored();
    expect(record!.metadata.embedding_dimension).toBe("768");
    expect(record!.schema_violations).toEqual([{ path: "metadata.embedding_dimension", message: expect.any(String) }]);
  });

  it("strict: rejects such an event as that event's rejection", async () => {
    use({ TELEMETRY_SCHEMA_MODE: "strict" });
    const issues = [{ path: "metadata.embedding_dimension", message: expect.any(String) }];
    const response = await post([
      registration({ embedding_dimension: "768" }),
      registration({ embedding_dimension: 768 }),
    ]);
    expect(await response.json()).toEqual({ status: "success", accepted: 1, rejected: [{ index: 0, issues }] });
    const single = await expectError(await post(registration({ embedding_dimension: "768" })), 400, "invalid_event");
    expect(single.issues).toEqual(issues);
    expect((await stored()).map((record) => record.metadata.embedding_dimension)).toEqual([768]);
  });

  it.each(["lenient", "strict"])(
    "%s: stores an event of an unknown name with any metadata, without violations",
    async (mode) => {
      use({ TELEMETRY_SCHEMA_MODE: mode });
      const metadata = { embedding_dimension: "768", message: 42, nested: { list: [1, "two", null] } };
      expect((await post(event({ event_name: "plugin.custom_thing", metadata }))).status).toBe(201);
      const [record] = await stored();
      expect(record!.metadata).toEqual(metadata);
      expect(record!.schema_violations).toBeUndefined();
    },
  );

  it.each(["lenient", "strict"])("%s: keeps metadata fields a known event does not list", async (mode) => {
    use({ TELEMETRY_SCHEMA_MODE: mode });
    const metadata = { model_name: "m", embedding_dimension: 768, gpu_name: "RTX 4090", extra: { quantized: true } };
    expect((await post(event({ event_name: "model_registration", metadata }))).status).toBe(201);
    const [record] = await stored();
    expect(record!.metadata).toEqual(metadata);
    expect(record!.schema_violations).toBeUndefined();
  });
});

describe("install ids (TELEMETRY_HWID_MODE)", () => {
  const SALT = "hwid-salt-0123456789";

  it("full (the default) stores the id as sent", async () => {
    expect((await post(event({ hwid: "install-1" }))).status).toBe(201);
    expect((await stored()).at(-1)!.hwid).toBe("install-1");
  });

  it("hash stores a keyed hash: the same for one id and salt, never the id, and none without a salt", async () => {
    use({ TELEMETRY_HWID_MODE: "hash", TELEMETRY_HWID_SALT: SALT });
    for (const hwid of ["install-1", "install-1", "install-2"]) expect((await post(event({ hwid }))).status).toBe(201);
    const ids = (await stored()).map((record) => record.hwid);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[0]).toBe(pseudonymizeHwid("install-1", "hash", SALT));
    expect((await storedLines()).join("\n")).not.toContain("install-");
    expect(() => loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_HWID_MODE: "hash" })).toThrow(/TELEMETRY_HWID_SALT/);
    expect(() => loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_HWID_MODE: "hashed" })).toThrow(
      /TELEMETRY_HWID_MODE/,
    );
  });
});

describe("client address (TELEMETRY_IP_MODE)", () => {
  const storedIp = async (platformIp: string | undefined, headers: Record<string, string> = {}) => {
    expect((await post(event(), { platformIp, headers })).status).toBe(201);
    return (await stored()).at(-1)!.ip;
  };

  it("full (the default) keeps the address as received", async () => {
    expect(await storedIp("203.0.113.7")).toBe("203.0.113.7");
    expect(await storedIp("2001:db8:85a3::8a2e:370:7334")).toBe("2001:db8:85a3::8a2e:370:7334");
  });

  it("truncate keeps the /24 of an IPv4 address and the /48 of an IPv6 one", async () => {
    use({ TELEMETRY_IP_MODE: "truncate" });
    expect(await storedIp("203.0.113.77")).toBe("203.0.113.0");
    expect(await storedIp("2001:0db8:85a3:0000:0000:8a2e:0370:7334")).toBe("2001:db8:85a3::");
  });

  it("hash gives 16 hex characters, the same for one address and salt, another with another salt, never the address", async () => {
    use({ TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: "first-salt-0123456789" });
    const first = await storedIp("203.0.113.7");
    const again = await storedIp("203.0.113.7");
    const neighbour = await storedIp("203.0.113.8");
    use({ TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: "other-salt-0123456789" });
    const salted = await storedIp("203.0.113.7");
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(again).toBe(first);
    expect(new Set([first, neighbour, salted]).size).toBe(3);
    expect((await storedLines()).join("\n")).not.toContain("203.0.113");
  });

  it("hash needs TELEMETRY_IP_SALT of at least 16 characters", () => {
    expect(() => loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_IP_MODE: "hash" })).toThrow(ConfigError);
    expect(() =>
      loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: "s".repeat(15) }),
    ).toThrow(ConfigError);
    expect(
      loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: "s".repeat(16) }).ingest
        .ipMode,
    ).toBe("hash");
  });

  it("off stores null", async () => {
    use({ TELEMETRY_IP_MODE: "off" });
    expect(await storedIp("203.0.113.7", { "x-forwarded-for": "198.51.100.4" })).toBeNull();
  });

  it("does not store a forged X-Forwarded-For that is not an address", async () => {
    expect(await storedIp(undefined, { "x-forwarded-for": "<script>alert(1)</script>" })).toBeNull();
    expect(await storedIp(undefined, { "x-forwarded-for": "evil.example, 198.51.100.4" })).toBeNull();
    expect(await storedIp(undefined, { "x-forwarded-for": "198.51.100.4" })).toBe("198.51.100.4");
    expect((await storedLines()).join("\n")).not.toMatch(/script|evil/);
  });
});

describe("scrubbing", () => {
  // What the client's exception hook sends for an uncaught exception.
  const traceback = [
    "Traceback (most recent call last):",
    '  File "/home/alice/projects/vector-inspector/src/app.py", line 42, in run',
    "    self.connect()",
    '  File "C:\\Users\\Bob\\AppData\\Local\\vector-inspector\\db.py", line 7, in connect',
    "    raise ConnectionError(message)",
    "ConnectionError: connection refused",
  ].join("\n");
  const sent = {
    exception_type: "ConnectionError",
    message: "login as alice@example.com failed with key sk-proj-Abc123def456ghi789jkl012",
    traceback,
    error_hash: "9f2c4e1a7b3d",
  };
  const crash = event({ event_name: "UncaughtException", metadata: sent });

  it("replaces user names, e-mail addresses and keys, keeps the traceback's lines, and counts the redactions", async () => {
    expect((await post(crash)).status).toBe(201);
    const [record] = await stored();
    expect(record!.metadata).toEqual({
      exception_type: "ConnectionError",
      message: "login as [email] failed with key [REDACTED]",
      traceback: traceback.replace("/home/alice/", "/home/[user]/").replace("\\Users\\Bob\\", "\\Users\\[user]\\"),
      error_hash: "9f2c4e1a7b3d",
    });
    expect((record!.metadata.traceback as string).split("\n")).toHaveLength(6);
    expect(record!.redactions).toBe(4);
    expect((await storedLines()).join("\n")).not.toMatch(/alice|Bob|sk-proj/);
  });

  it("replaces the value of a metadata key that names a secret", async () => {
    const metadata = { db_type: "qdrant", api_key: "plain-looking-value", password: "hunter2", primary_key: "id" };
    await post(event({ event_name: "db.connection_attempt", metadata }));
    const [record] = await stored();
    expect(record!.metadata).toEqual({
      db_type: "qdrant",
      api_key: "[REDACTED]",
      password: "[REDACTED]",
      primary_key: "id",
    });
    expect(record!.redactions).toBe(2);
  });

  it("stores metadata as sent with TELEMETRY_SCRUB=off", async () => {
    use({ TELEMETRY_SCRUB: "off" });
    await post(crash);
    const [record] = await stored();
    expect(record!.metadata).toEqual(sent);
    expect(record!.redactions).toBeUndefined();
  });
});

describe("metadata shape limits", () => {
  /** Metadata `levels` objects deep, the metadata object itself being the first. */
  const nested = (levels: number): Record<string, unknown> =>
    levels <= 1 ? { leaf: true } : { deeper: nested(levels - 1) };

  it("takes metadata nested 8 levels deep and rejects 9, naming the limit", async () => {
    const response = await post([
      event({ event_name: "custom.deep", metadata: nested(8) }),
      event({ event_name: "custom.deep", metadata: nested(9) }),
    ]);
    expect(await response.json()).toEqual({
      status: "success",
      accepted: 1,
      rejected: [
        {
          index: 1,
          issues: [
            { path: `metadata${".deeper".repeat(8)}`, message: expect.stringMatching(/nested more than 8 levels/) },
          ],
        },
      ],
    });
    expect((await stored()).map((record) => record.metadata)).toEqual([nested(8)]);
  });

  it("takes a string of 16,384 characters and rejects one of 16,385, naming the limit", async () => {
    const response = await post([
      event({ metadata: { text: "x".repeat(16_384) } }),
      event({ metadata: { text: "x".repeat(16_385) } }),
    ]);
    expect(await response.json()).toEqual({
      status: "success",
      accepted: 1,
      rejected: [
        { index: 1, issues: [{ path: "metadata.text", message: "string is 16385 characters; the limit is 16384" }] },
      ],
    });
    expect((await stored()).map((record) => (record.metadata.text as string).length)).toEqual([16_384]);
  });

  it("takes metadata of 1,000 entries and rejects 1,001, naming the limit", async () => {
    const entries = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, n) => [`k${n}`, n]));
    const response = await post([
      event({ event_name: "custom.wide", metadata: entries(1000) }),
      event({ event_name: "custom.wide", metadata: entries(1001) }),
    ]);
    expect(await response.json()).toEqual({
      status: "success",
      accepted: 1,
      rejected: [
        {
          index: 1,
          issues: [{ path: "metadata", message: expect.stringMatching(/more than 1000 entries.*the limit is 1000/) }],
        },
      ],
    });
    expect(Object.keys((await stored())[0]!.metadata)).toHaveLength(1000);
  });

  it.each([
    ['{"__proto__":{"polluted":true}}', "metadata.__proto__"],
    ['{"a":{"constructor":{"prototype":{"polluted":true}}}}', "metadata.a.constructor"],
  ])("rejects metadata %s and leaves Object.prototype alone", async (metadata, path) => {
    const raw = `{"metadata":${metadata},"hwid":"hw-1","event_name":"custom.proto","app_version":"1.2.3"}`;
    const single = await expectError(await post(raw), 400, "invalid_event");
    expect(single.issues).toEqual([{ path, message: expect.stringMatching(/not allowed/) }]);
    const response = await post(`[${raw},${JSON.stringify(event())}]`);
    expect(await response.json()).toMatchObject({ accepted: 1, rejected: [{ index: 0, issues: single.issues }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await storedLines()).join("\n")).not.toContain("polluted");
  });
});

describe("stored lines", () => {
  it("escape NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR, so that a reader splitting on them (Python's splitlines) sees one line per event", async () => {
    const texts = ["a\u2028b", "c\u2029d", "e\u0085f"];
    const response = await post(
      texts.map((text, n) => event({ event_name: `custom.breaks.${n}`, metadata: { text } })),
    );
    expect(response.status).toBe(201);
    const [file] = await storedFiles();
    const raw = await readFile(join(dir, file!), "utf8");
    // The line breaks Python's str.splitlines knows, less \r\n (which JSON escapes anyway).
    const splitlines = raw.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/).filter(Boolean);
    expect(splitlines).toHaveLength(3);
    expect(splitlines.map((line) => storedEventSchema.parse(JSON.parse(line)).metadata.text)).toEqual(texts);
  });
});

describe("credentials in the envelope", () => {
  // Built from parts, so that no committed line looks like a real token to a secret scanner.
  const token = `${"ghp"}_${"a1B2".repeat(9)}`;

  it.each(["hwid", "event_name", "app_version", "client_type"])(
    "refuses an event whose %s holds a token (GitHub's push protection would refuse every commit of its file), storing the rest",
    async (field) => {
      const response = await post([event({ [field]: `x-${token}` }), event()]);
      expect(await response.json()).toMatchObject({
        accepted: 1,
        rejected: [{ index: 0, issues: [{ path: field, message: expect.stringMatching(/GitHub token/) }] }],
      });
      const lines = await storedLines();
      expect(lines).toHaveLength(1);
      expect(lines.join("\n")).not.toContain(token);
    },
  );

  it("refuses it with TELEMETRY_SCRUB=off too, which keeps metadata as sent", async () => {
    use({ TELEMETRY_SCRUB: "off" });
    await expectError(await post(event({ hwid: token })), 400, "invalid_event");
    expect(await storedFiles()).toEqual([]);
  });
});
