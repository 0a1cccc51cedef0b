import { readFile } from "node:fs/promises";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import {
  openApiDocument,
  requestJsonSchema,
  schemaDocuments,
  storedEventJsonSchema,
} from "../lib/http/endpoints/schema-documents.ts";
import { serveSchema } from "../lib/http/endpoints/serve-schema.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };

const { about: _about, ...seedBodies } = seeds;

function validator(schema: object) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

describe("the JSON Schema and OpenAPI documents", () => {
  it.each(Object.keys(schemaDocuments()))(
    "checked-in schema/%s is what the zod source generates (else run npm run schema)",
    async (name) => {
      const checkedIn = JSON.parse(await readFile(new URL(`../schema/${name}`, import.meta.url), "utf8"));
      expect(checkedIn).toEqual(JSON.parse(JSON.stringify(schemaDocuments()[name])));
    },
  );

  it("the request schema takes every seed body, and refuses a body without hwid or with metadata that is not an object", () => {
    const validate = validator(requestJsonSchema());
    for (const [name, body] of Object.entries(seedBodies))
      expect(validate(body), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    expect(validate([seedBodies.app_launch_minimal, seedBodies.model_registration])).toBe(true);
    expect(validate({ events: [seedBodies.app_launch_with_os] })).toBe(true);
    const { hwid: _hwid, ...noHwid } = seedBodies.app_launch_minimal;
    expect(validate(noHwid)).toBe(false);
    expect(validate({ ...seedBodies.app_launch_minimal, metadata: [1, 2] })).toBe(false);
    expect(validate({ ...seedBodies.model_registration, metadata: { embedding_dimension: "768" } })).toBe(false);
  });

  it("the stored-event schema describes a stored line", () => {
    const validate = validator(storedEventJsonSchema());
    const line = {
      event_id: "019aaf2c-7a1e-7c3b-9f0e-2b1d4c5e6f70",
      created_at: "2026-11-22T18:39:29.824Z",
      ip: "203.0.113.7",
      ...seedBodies.app_launch_with_os,
    };
    expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...line, created_at: "yesterday" })).toBe(false);
  });

  it("the OpenAPI document is 3.1 and every component schema compiles", () => {
    const document = openApiDocument();
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(["/api/v1/telemetry", "/api/v1/health", "/api/v1/schema"]),
    );
    for (const schema of Object.values(document.components.schemas)) expect(() => validator(schema)).not.toThrow();
  });

  it("serves the request schema at /api/v1/schema, the others by name, and 404 JSON for an unknown name", async () => {
    const main = await serveSchema(new Request("http://localhost/api/v1/schema"));
    expect(main.status).toBe(200);
    expect(main.headers.get("content-type")).toMatch(/^application\/schema\+json/);
    expect(await main.json()).toEqual(JSON.parse(JSON.stringify(requestJsonSchema())));
    const openapi = await serveSchema(new Request("http://localhost/api/v1/schema/openapi.json"));
    expect((await openapi.json()).openapi).toBe("3.1.0");
    const missing = await serveSchema(new Request("http://localhost/api/v1/schema/nope.json"));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: "error", error: "not_found" });
  });
});
