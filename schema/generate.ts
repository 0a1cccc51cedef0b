// Writes the checked-in JSON Schema and OpenAPI documents from the zod source: `npm run schema`.
import { writeFile } from "node:fs/promises";
import { schemaDocuments } from "../lib/http/endpoints/schema-documents.ts";

for (const [name, document] of Object.entries(schemaDocuments())) {
  await writeFile(new URL(name, import.meta.url), `${JSON.stringify(document, null, 2)}\n`);
}
