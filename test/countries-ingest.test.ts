import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HandlerEvent } from "@netlify/functions";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../lib/config.ts";
import { storedEventSchema } from "../lib/events/stored-event.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { requestFromEvent } from "../lib/platform/request-from-event.ts";
import { createRuntime } from "../lib/runtime.ts";

const URL = "http://localhost/api/v1/telemetry";
const EVENT = { hwid: "install-1", event_name: "app_launch", app_version: "1.0.0", metadata: { os: "Linux" } };
const SALT = "a-salt-of-sixteen-chars";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "telemetry-countries-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Netlify's `x-nf-geo`: base64 JSON, as its edge (and `netlify dev`) sends a Lambda-compatible function. */
function geoHeader(code: unknown): string {
  return Buffer.from(JSON.stringify({ city: "Mock City", country: { code, name: "Mock" } })).toString("base64");
}

/** One event posted as the telemetry function receives it (a Lambda event's headers), with `env`'s settings. */
async function post(headers: Record<string, string>, env: Record<string, string> = {}, body: object = EVENT) {
  const runtime = createRuntime(loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SPOOL: "off", ...env }));
  const event = {
    rawUrl: URL,
    httpMethod: "POST",
    headers: { "content-type": "application/json", "x-nf-client-connection-ip": "203.0.113.7", ...headers },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as HandlerEvent;
  return ingest(requestFromEvent(event), { runtime, platformIp: event.headers["x-nf-client-connection-ip"] });
}

async function storedRecords(): Promise<Record<string, unknown>[]> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  const texts = await Promise.all(files.map((file) => readFile(join(file.parentPath, file.name), "utf8")));
  return texts
    .flatMap((text) => text.split("\n").filter(Boolean))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("the caller's country, as Netlify's edge placed it", () => {
  it("is stored from x-country, upper-cased, after the address and before the install", async () => {
    expect((await post({ "x-country": "de" })).status).toBe(201);
    const [record] = await storedRecords();
    expect(record!.country).toBe("DE");
    expect(Object.keys(record!).slice(2, 5)).toEqual(["ip", "country", "hwid"]);
    expect(storedEventSchema.parse(record)).toMatchObject({ country: "DE" });
  });

  it("is taken from x-nf-geo's country.code first (what netlify dev sends), else x-country", async () => {
    await post({ "x-nf-geo": geoHeader("JP"), "x-country": "US" });
    await post({ "x-nf-geo": "not base64 json", "x-country": "US" });
    await post({ "x-nf-geo": geoHeader(42), "x-country": "FR" });
    expect((await storedRecords()).map((r) => r.country).sort()).toEqual(["FR", "JP", "US"]);
  });

  it("is not stored when the header holds anything but two letters", async () => {
    for (const value of ["USA", "U", "1A", "D E", "", "<script>", "ÄÖ"]) {
      expect((await post({ "x-country": value, "x-nf-geo": geoHeader(value) })).status).toBe(201);
    }
    await post({});
    const records = await storedRecords();
    expect(records).toHaveLength(8);
    for (const record of records) expect(record).not.toHaveProperty("country");
  });

  it("is not stored with TELEMETRY_GEO=off; a wrong setting is refused by name", async () => {
    await post({ "x-country": "DE", "x-nf-geo": geoHeader("DE") }, { TELEMETRY_GEO: "off" });
    const [record] = await storedRecords();
    expect(record).not.toHaveProperty("country");
    expect(record!.ip).toBe("203.0.113.7");
    expect(() => loadConfig({ TELEMETRY_GEO: "maybe" })).toThrow(/TELEMETRY_GEO/);
  });

  it("is kept whatever TELEMETRY_IP_MODE keeps of the address, none included", async () => {
    const modes = [
      { TELEMETRY_IP_MODE: "full" },
      { TELEMETRY_IP_MODE: "truncate" },
      { TELEMETRY_IP_MODE: "hash", TELEMETRY_IP_SALT: SALT },
      { TELEMETRY_IP_MODE: "off" },
    ];
    for (const env of modes) await post({ "x-country": "BR" }, env);
    const records = await storedRecords();
    expect(records.map((r) => r.country)).toEqual(["BR", "BR", "BR", "BR"]);
    expect(records.map((r) => r.ip).sort()).toEqual(
      ["203.0.113.0", "203.0.113.7", expect.stringMatching(/^[0-9a-f]{16}$/), null].sort(),
    );
  });

  it("cannot be set by the client: a body's country is ignored and named as such", async () => {
    const forged = await post({ "x-country": "NL" }, {}, { ...EVENT, country: "FR" });
    expect(await forged.json()).toMatchObject({ ignored_fields: ["country"] });
    await post({}, {}, { ...EVENT, country: "FR" });
    const records = await storedRecords();
    expect(records.map((r) => r.country ?? null).sort()).toEqual(["NL", null]);
  });
});
