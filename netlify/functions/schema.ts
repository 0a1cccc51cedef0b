import { handleSchemaRequest } from "../../lib/serve-schema.ts";

export default async function schema(request: Request): Promise<Response> {
  return handleSchemaRequest(request);
}
