/**
 * Runs one invocation of a built function, as AWS Lambda's Node.js runtime does, through
 * `lambda-local` (what `netlify dev` runs functions with; it provides the runtime's
 * `awslambda.streamifyResponse`). Arguments: the entry file and where to write the results; the
 * events come on stdin, a JSON array, called one after the other in this one process (a warm
 * instance). Exits once the last answer is written: Lambda freezes the process then.
 */
import { createRequire } from "node:module";
import { writeFile } from "node:fs/promises";
import { text } from "node:stream/consumers";
import type { Readable } from "node:stream";

interface LambdaLocal {
  getLogger(): { level: string };
  execute(
    options: Record<string, unknown>,
  ): Promise<{ statusCode: number; headers?: Record<string, string>; body?: unknown }>;
}

const fromCli = createRequire(createRequire(import.meta.url).resolve("netlify-cli/package.json"));
const lambdaLocal = fromCli("lambda-local") as LambdaLocal;
lambdaLocal.getLogger().level = "alert";

const [entry, out] = process.argv.slice(2) as [string, string];
const events = JSON.parse(await text(process.stdin)) as unknown[];
const results = [];
for (const event of events) {
  const result = await lambdaLocal.execute({
    lambdaPath: entry,
    event,
    esm: entry.endsWith(".mjs"),
    timeoutMs: 60_000,
    verboseLevel: 0,
  });
  const body =
    typeof result.body === "string" || result.body === undefined ? result.body : await text(result.body as Readable);
  results.push({ statusCode: result.statusCode, headers: result.headers ?? {}, body: body ?? "" });
}
await writeFile(out, JSON.stringify(results));
process.exit(0);
