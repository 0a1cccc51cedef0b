import { z } from "zod";
import { issueSchema } from "../../issue.ts";
import { CORS_ALLOWED_HEADERS } from "../cors-headers.ts";
import { MAX_DECODED_BYTES, MAX_WIRE_BYTES } from "../decode-body.ts";
import { healthAnswerSchema } from "./report-health.ts";
import { storedEventSchema } from "../../events/stored-event.ts";
import { telemetryEventSchema } from "../../events/telemetry-event.ts";
import { knownEvents } from "../../events/known-events.ts";
import { MAX_EVENT_BYTES } from "../../events/prepare-event.ts";
import { MAX_EVENTS_PER_REQUEST, modelExportSchema, rejectionSchema } from "../../events/read-batch.ts";
import { dayRollupSchema } from "../../tally/day-rollup.ts";
import { periodReportSchema } from "../../present/period-report.ts";
import { erasureStatusSchema } from "../../lifecycle/erasure-requests.ts";
import { erasureRequestSchema } from "./request-erasure.ts";

/** Where the documents are served; also their `$id`s. */
const SCHEMA_PATH = "/api/v1/schema";

/** A known event: its name, and its metadata's schema (lenient mode stores violations, strict mode rejects them). */
const knownEventSchemas = Object.entries(knownEvents).map(([name, metadata]) =>
  telemetryEventSchema.extend({ event_name: z.literal(name), metadata: metadata.nullish() }).meta({ title: name }),
);

/** Any other event name, with free metadata. */
const otherEventSchema = telemetryEventSchema.extend({}).meta({ title: "other events" });

/**
 * One event as a client should send it: a known event with its metadata's schema, or any other
 * name. (In lenient mode the service also stores a known event whose metadata breaks its schema,
 * listing the violations in the record.)
 */
const eventDocSchema = z.union([...knownEventSchemas, otherEventSchema]);
const batchSchema = z.array(eventDocSchema).min(1).max(MAX_EVENTS_PER_REQUEST);

/** What `POST /api/v1/telemetry` takes, in each of its JSON shapes (NDJSON: one event per line). */
const requestBodySchema = z
  .union([
    eventDocSchema,
    batchSchema,
    z.object({ events: batchSchema }),
    modelExportSchema.meta({
      title: "model-metadata export file",
      description: "Each event becomes a model_registration event",
    }),
  ])
  .meta({
    title: "Telemetry request body",
    description: `One event, an array of events, {"events":[…]}, or a model-metadata export file. At most ${MAX_EVENTS_PER_REQUEST} events and ${MAX_WIRE_BYTES} bytes on the wire (${MAX_DECODED_BYTES} decompressed) per request, ${MAX_EVENT_BYTES} bytes per event.`,
  });

/** What a 201 says: how many events were taken, and why the others were not. */
export const successAnswerSchema = z.object({
  status: z.literal("success"),
  accepted: z
    .number()
    .int()
    .nonnegative()
    .describe("Events taken: stored, already stored (a replayed event_id), or of a dropped client type"),
  duplicates: z
    .number()
    .int()
    .positive()
    .describe("Events taken that were already stored or sent twice in this request")
    .optional(),
  rejected: z.array(rejectionSchema).describe("Events not taken, by their index in the body, and why"),
  event_id: z.uuid().describe("For a single-event body: the stored event's id").optional(),
  ignored_fields: z
    .array(z.string())
    .describe("For a single-event body: top-level keys the envelope does not define, which were not stored")
    .optional(),
});

const errorAnswerSchema = z.looseObject({
  status: z.literal("error"),
  error: z.string(),
  message: z.string(),
  limit: z.string().optional(),
  issues: z.array(issueSchema).optional(),
  rejected: successAnswerSchema.shape.rejected.optional(),
});

const JSON_SCHEMA_OPTIONS = {
  target: "draft-2020-12",
  io: "input",
  unrepresentable: "any",
  reused: "ref",
  // zod has no "any name but these": the other-events branch says it in JSON Schema terms.
  override: ({ zodSchema, jsonSchema }) => {
    if (zodSchema === otherEventSchema)
      jsonSchema.not = {
        properties: { event_name: { enum: Object.keys(knownEvents) } },
        required: ["event_name"],
      };
  },
} satisfies Parameters<typeof z.toJSONSchema>[1];

const jsonSchemaOf = (schema: z.ZodType, id: string) => ({
  $id: `${SCHEMA_PATH}/${id}`,
  ...z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS),
});

/** The JSON Schema of a request body. */
export function requestJsonSchema() {
  return jsonSchemaOf(requestBodySchema, "telemetry-request.json");
}

/** The JSON Schema of one stored NDJSON line. */
export function storedEventJsonSchema() {
  return jsonSchemaOf(storedEventSchema.meta({ title: "Stored event (one NDJSON line)" }), "stored-event.json");
}

/** The read path's documents (a rollup, a report): written by us, so their parts are inlined, not shared. */
const readPathSchema = (schema: z.ZodType, id: string) => ({
  $id: `${SCHEMA_PATH}/${id}`,
  ...z.toJSONSchema(schema, { ...JSON_SCHEMA_OPTIONS, io: "output", reused: "inline" }),
});

/** A component keeps its own `$id`, so that the `#/$defs/…` references inside it resolve within it. */
const component = (schema: z.ZodType, name: string) => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS);
  return { $id: `${SCHEMA_PATH}/components/${name}.json`, ...rest };
};

const healthContent = { "application/json": { schema: { $ref: "#/components/schemas/Health" } } };
const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };

/** The OpenAPI 3.1 document of the endpoints. */
export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "Telemetry ingest",
      version: "1",
      description: "Takes telemetry events and keeps them as date-partitioned NDJSON files in a GitHub repository.",
    },
    paths: {
      "/api/v1/telemetry": {
        post: {
          summary: "Send one event or a batch",
          parameters: [
            {
              name: "Content-Encoding",
              in: "header",
              schema: { type: "string", enum: ["gzip", "x-gzip", "deflate", "br", "identity"] },
            },
            {
              name: "Idempotency-Key",
              in: "header",
              description: "Single-event bodies: the same key (per hwid) is stored once",
              schema: { type: "string", maxLength: 255 },
            },
            {
              name: "X-Telemetry-Key",
              in: "header",
              description: "The shared secret, when the service has one",
              schema: { type: "string" },
            },
          ],
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/TelemetryRequest" } },
              "text/plain": { schema: { $ref: "#/components/schemas/TelemetryRequest" } },
              "application/x-ndjson": { schema: { type: "string", description: "One event object per line" } },
            },
          },
          responses: {
            "201": {
              description: "Kept: the valid events are stored once, the others listed in rejected",
              content: { "application/json": { schema: { $ref: "#/components/schemas/Accepted" } } },
            },
            "400": { description: "No valid event, or a body that cannot be read", content: errorContent },
            "401": { description: "The shared secret is missing or wrong", content: errorContent },
            "403": { description: "Sent from a browser page whose Origin is not allowed", content: errorContent },
            "404": {
              description: "Sent under another path (the function's own address): only this one is rate-limited",
              content: errorContent,
            },
            "405": { description: "Another method", content: errorContent },
            "413": { description: "Over a size limit (named in limit)", content: errorContent },
            "415": { description: "An unsupported Content-Type or Content-Encoding", content: errorContent },
            "429": { description: "Over the per-client request rate (Netlify's rate limit)" },
            "503": { description: "Not stored now; send again after Retry-After", content: errorContent },
          },
        },
        options: {
          summary: "CORS preflight",
          responses: {
            "204": { description: `Allowed origins get the allowed methods and headers (${CORS_ALLOWED_HEADERS})` },
          },
        },
      },
      "/api/v1/health": {
        get: {
          summary: "Whether events reach the store: ok, degraded or failing, with the reasons",
          responses: {
            "200": { description: "ok or degraded", content: healthContent },
            "503": { description: "failing: no event can reach the store now", content: healthContent },
          },
        },
      },
      [SCHEMA_PATH]: {
        get: {
          summary: "The JSON Schema of a request body",
          responses: { "200": { description: "JSON Schema (draft 2020-12)" } },
        },
      },
      [`${SCHEMA_PATH}/openapi.json`]: {
        get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1" } } },
      },
      [`${SCHEMA_PATH}/stored-event.json`]: {
        get: {
          summary: "The JSON Schema of a stored NDJSON line",
          responses: { "200": { description: "JSON Schema (draft 2020-12)" } },
        },
      },
    },
    components: {
      schemas: {
        TelemetryRequest: component(requestBodySchema, "TelemetryRequest"),
        StoredEvent: component(storedEventSchema, "StoredEvent"),
        Accepted: component(successAnswerSchema, "Accepted"),
        Error: component(errorAnswerSchema, "Error"),
        Health: component(healthAnswerSchema, "Health"),
      },
    },
  };
}

/** The documents by the file name they are served and checked in as. */
export function schemaDocuments(): Record<string, unknown> {
  return {
    "telemetry-request.json": requestJsonSchema(),
    "stored-event.json": storedEventJsonSchema(),
    "openapi.json": openApiDocument(),
    "day-rollup.json": readPathSchema(dayRollupSchema, "day-rollup.json"),
    "report.json": readPathSchema(periodReportSchema, "report.json"),
    "erasure-request.json": readPathSchema(
      erasureRequestSchema.meta({ title: "Erasure request" }),
      "erasure-request.json",
    ),
    "erasure-status.json": readPathSchema(
      erasureStatusSchema.meta({ title: "Erasure request's status" }),
      "erasure-status.json",
    ),
  };
}
