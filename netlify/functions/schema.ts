import { serveSchema } from "../../lib/http/serve-schema.ts";

/** GET /api/v1/schema[/<name>]: the JSON Schema and OpenAPI documents. */
export default serveSchema;
