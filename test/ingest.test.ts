import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { describe, expect, it } from "./support/fixtures.ts";
import { storedEventSchema } from "../lib/events/stored-event.ts";
import { MAX_WIRE_BYTES as MAX_BODY_BYTES } from "../lib/http/decode-body.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { ConfigError, loadConfig } from "../lib/config.ts";
import { createRuntime, type Runtime } from "../lib/runtime.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };
import { expectError } from "./support/answers.ts";

const URL = "http://localhost/api/v1/telemetry";
const { about: _about, model_metadata_export_file: _exportFile, ...seedEvents } = seeds;
const minimal = seedEvents.app_launch_minimal;

let dir: string;
let runtime: Runtime;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "telemetry-ingest-"));
  runtime = createRuntime(loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SPOOL: "off" }));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function post(body: BodyInit | null, headers: Record<string, string> = { "content-type": "application/json" }) {
  return ingest(new Request(URL, { method: "POST", body, headers, duplex: "half" } as RequestInit), {
    runtime,
    platformIp: "203.0.113.7",
  });
}

async function storedLines(): Promise<string[]> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  const texts = await Promise.all(files.sort().map((file) => readFile(join(file.parentPath, file.name), "utf8")));
  return texts.flatMap((text) => text.split("\n").filter(Boolean));
}

describe("accepted events", () => {
  it.each(Object.entries(seedEvents))("stores the seed example %s as one line, as specified", async (_name, body) => {
    const before = Date.now();
    const response = await post(JSON.stringify(body));
    expect(response.status).toBe(201);
    const answer = await response.json();
    expect(answer).toMatchObject({ status: "success" });

    const lines = await storedLines();
    expect(lines).toHaveLength(1);
    const record = storedEventSchema.parse(JSON.parse(lines[0]!));
    expect(Object.keys(JSON.parse(lines[0]!))).toEqual([
      "event_id",
      "created_at",
      "ip",
      "hwid",
      "event_name",
      "app_version",
      "client_type",
      "metadata",
    ]);
    expect(record.event_id).toBe(answer.event_id);
    expect(Date.parse(record.created_at)).toBeGreaterThanOrEqual(before - 1);
    expect(record.ip).toBe("203.0.113.7");
    expect(record).toMatchObject({ ...body, metadata: "metadata" in body ? body.metadata : {} });
  });

  it("files the line under the UTC date of created_at", async () => {
    await post(JSON.stringify(minimal));
    const [line] = await storedLines();
    const createdAt = JSON.parse(line!).created_at as string;
    const [year, month, day] = createdAt.slice(0, 10).split("-");
    const text = await readFile(join(dir, "telemetry", year!, month!, day!, "0001.ndjson"), "utf8");
    expect(text).toBe(`${line}\n`);
  });

  it("defaults client_type and metadata, and treats null as absent", async () => {
    const { client_type: _ignored, ...bare } = minimal;
    expect((await post(JSON.stringify(bare))).status).toBe(201);
    expect((await post(JSON.stringify({ ...bare, client_type: null, metadata: null }))).status).toBe(201);
    for (const line of await storedLines()) {
      expect(JSON.parse(line)).toMatchObject({ client_type: "vector-inspector", metadata: {} });
    }
  });

  it("accepts text/plain (sendBeacon) and a body with no content type", async () => {
    expect((await post(JSON.stringify(minimal), { "content-type": "text/plain;charset=UTF-8" })).status).toBe(201);
    expect((await post(JSON.stringify(minimal), {})).status).toBe(201);
    expect(await storedLines()).toHaveLength(2);
  });

  it("ignores unknown top-level fields, says which, and stores the event without them", async () => {
    const response = await post(JSON.stringify({ ...minimal, session: "abc", debug: true }));
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ ignored_fields: ["session", "debug"] });
    const record = JSON.parse((await storedLines())[0]!);
    expect(record).not.toHaveProperty("session");
    expect(record).not.toHaveProperty("debug");
  });

  it("accepts fields exactly at their length limits", async () => {
    const atLimit = {
      hwid: "h".repeat(128),
      event_name: "e".repeat(128),
      app_version: "v".repeat(64),
      client_type: "c".repeat(64),
    };
    expect((await post(JSON.stringify(atLimit))).status).toBe(201);
    expect(JSON.parse((await storedLines())[0]!)).toMatchObject(atLimit);
  });

  it("gives event ids that sort in arrival order", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await (await post(JSON.stringify(minimal))).json()).event_id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5);
  });

  it("records the platform's client address first, then Netlify's header, then X-Forwarded-For", async () => {
    const request = (headers: Record<string, string>, platformIp?: string) =>
      ingest(
        new Request(URL, {
          method: "POST",
          body: JSON.stringify(minimal),
          headers: { "content-type": "application/json", ...headers },
        }),
        { runtime, platformIp },
      );
    await request({ "x-nf-client-connection-ip": "198.51.100.1", "x-forwarded-for": "192.0.2.1" }, "203.0.113.9");
    await request({ "x-nf-client-connection-ip": "198.51.100.1", "x-forwarded-for": "192.0.2.1" });
    await request({ "x-forwarded-for": "192.0.2.1, 10.0.0.1" });
    await request({});
    expect((await storedLines()).map((line) => JSON.parse(line).ip)).toEqual([
      "203.0.113.9",
      "198.51.100.1",
      "192.0.2.1",
      null,
    ]);
  });
});

describe("refused requests: a clear JSON error, the right status, nothing stored", () => {
  afterEach(async () => expect(await storedLines()).toEqual([]));

  it("400 invalid_json for a body that is not JSON, is empty, or is not UTF-8", async () => {
    await expectError(await post("{not json"), 400, "invalid_json");
    await expectError(await post(""), 400, "invalid_json");
    await expectError(await post(new Uint8Array([0x7b, 0xff, 0x7d])), 400, "invalid_json");
  });

  it("400 invalid_event naming every problem", async () => {
    const body = await expectError(
      await post(
        JSON.stringify({ hwid: "", event_name: "bad\u0007name", app_version: 3, client_type: "", metadata: [1] }),
      ),
      400,
      "invalid_event",
    );
    expect(body.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
      "app_version",
      "client_type",
      "event_name",
      "hwid",
      "metadata",
    ]);
    expect(body.issues.find((issue: { path: string }) => issue.path === "event_name").message).toMatch(
      /control characters/,
    );
  });

  it("400 invalid_event for missing fields, fields too long, and a body that is not an object", async () => {
    const missing = await expectError(await post(JSON.stringify({})), 400, "invalid_event");
    expect(missing.issues.map((issue: { path: string }) => issue.path)).toEqual(["hwid", "event_name", "app_version"]);
    const tooLong = await expectError(
      await post(
        JSON.stringify({
          ...minimal,
          hwid: "h".repeat(129),
          event_name: "e".repeat(129),
          app_version: "v".repeat(65),
          client_type: "c".repeat(65),
        }),
      ),
      400,
      "invalid_event",
    );
    expect(tooLong.issues).toHaveLength(4);
    await expectError(await post("[]"), 400, "no_events");
    for (const notObject of ["42", '"event"', "null"]) {
      const body = await expectError(await post(notObject), 400, "invalid_event");
      expect(body.issues[0].path).toBe("body");
    }
  });

  it("413 for a body over 1 MiB, whether declared or streamed", async () => {
    const big = JSON.stringify({ ...minimal, metadata: { blob: "x".repeat(MAX_BODY_BYTES) } });
    await expectError(await post(big), 413, "payload_too_large");
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        if (sent > 64 * MAX_BODY_BYTES) controller.close();
      },
    });
    await expectError(await post(stream), 413, "payload_too_large");
    expect(sent).toBeLessThan(2 * MAX_BODY_BYTES);
  });

  it("415 for other content types", async () => {
    await expectError(
      await post(JSON.stringify(minimal), { "content-type": "application/x-www-form-urlencoded" }),
      415,
      "unsupported_media_type",
    );
    await expectError(
      await post(JSON.stringify(minimal), { "content-type": "multipart/form-data; boundary=x" }),
      415,
      "unsupported_media_type",
    );
  });

  it("405 with Allow for other methods", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const response = await ingest(new Request(URL, { method }), { runtime });
      await expectError(response, 405, "method_not_allowed");
      expect(response.headers.get("allow")).toBe("POST, OPTIONS");
    }
  });

  it("503 with Retry-After when storage is not configured, naming what to set", async () => {
    runtime = {
      ok: false,
      error: new ConfigError(
        "GitHub storage is not configured: set GITHUB_TOKEN and GITHUB_REPOSITORY",
        "storage_not_configured",
      ),
    };
    const response = await post(JSON.stringify(minimal));
    const body = await expectError(response, 503, "storage_not_configured");
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    // What to set, by name (see test/endpoints.test.ts: never a value).
    expect(body.message).toMatch(/set GITHUB_TOKEN and GITHUB_REPOSITORY/);
  });
});

describe("the endpoint's path", () => {
  it("answers 404 under any path but /api/v1/telemetry, the one Netlify's rate limit covers, storing nothing", async () => {
    for (const path of ["/.netlify/functions/telemetry", "/api/v1/telemetry/", "/api/v2/telemetry"]) {
      const response = await ingest(
        new Request(`http://localhost${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ hwid: "h", event_name: "app_launch", app_version: "1.0.0" }),
        }),
        { runtime },
      );
      await expectError(response, 404, "not_found");
    }
    expect(await storedLines()).toEqual([]);
  });
});
