import { serveSchema } from "../../lib/http/serve-schema.ts";

export default async function schema(request: Request): Promise<Response> {
  return serveSchema(request);
}
