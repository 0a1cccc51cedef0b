import { defineStaticEndpoint } from "../define-endpoint.ts";
import { HttpError } from "../http-error.ts";
import { schemaDocuments } from "./schema-documents.ts";

/** What `GET /api/v1/schema` itself serves: the JSON Schema a client validates its bodies against. */
const DEFAULT_DOCUMENT = "telemetry-request.json";

let documents: Record<string, unknown> | undefined;

/**
 * GET /api/v1/schema[/<name>]: the JSON Schema of a request body (the default), of a stored line
 * (`stored-event.json`), or the OpenAPI document (`openapi.json`), generated from the zod source.
 */
export const serveSchema = defineStaticEndpoint({
  methods: ["GET", "HEAD"],
  handle: (request) => {
    documents ??= schemaDocuments();
    const last = new URL(request.url).pathname.split("/").at(-1) ?? "";
    const name = last.endsWith(".json") ? last : DEFAULT_DOCUMENT;
    const document = Object.hasOwn(documents, name) ? documents[name] : undefined;
    if (document === undefined) {
      throw new HttpError(404, "not_found", `No schema ${name}; there are ${Object.keys(documents).join(", ")}`);
    }
    return new Response(JSON.stringify(document, null, 2), {
      headers: {
        "content-type":
          name === "openapi.json" ? "application/json; charset=utf-8" : "application/schema+json; charset=utf-8",
        // Public documentation: any page may read it.
        "access-control-allow-origin": "*",
        "cache-control": "public, max-age=300",
      },
    });
  },
});
