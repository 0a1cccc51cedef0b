import { serveSchema } from "../../lib/http/endpoints/serve-schema.ts";

/** GET /api/v1/schema[/<name>]: the JSON Schema and OpenAPI documents. */
export default serveSchema;
