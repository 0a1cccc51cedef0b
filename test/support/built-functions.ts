import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "@netlify/config";
import { zipFunction } from "@netlify/zip-it-and-ship-it";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const INVOKER = fileURLToPath(new URL("./invoke-lambda.ts", import.meta.url));

/** A Lambda event as Netlify sends one to a function (either form: the Request/Response form's bootstrap reads the same). */
export interface LambdaEvent {
  rawUrl: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string>;
  body: string | undefined;
  isBase64Encoded: boolean;
  /** Base64 of the Netlify Blobs context (`url`, `url_uncached`, `token`). */
  blobs?: string;
}

export interface LambdaResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Bundles the named functions as a deploy does: zip-it-and-ship-it with `netlify.toml`'s
 * `[functions]` settings as Netlify's build hands them over (`esbuild` becomes `esbuild_zisi`),
 * left unzipped (`archiveFormat: "none"`, the archive's content). Returns each function's entry file.
 */
export async function buildFunctions(names: string[], destFolder: string): Promise<Record<string, string>> {
  const { config } = await resolveConfig({ cwd: ROOT, offline: true, context: "production" });
  const settings = config.functions as Record<string, { node_bundler?: string; external_node_modules?: string[] }>;
  const functionsConfig = Object.fromEntries(
    Object.entries(settings).map(([pattern, value]) => [
      pattern,
      {
        nodeBundler: value.node_bundler === "esbuild" ? "esbuild_zisi" : value.node_bundler,
        externalNodeModules: value.external_node_modules,
        includedFilesBasePath: ROOT,
      },
    ]),
  );
  const source = config.build.functions as string;
  await rm(destFolder, { recursive: true, force: true });
  const options = { basePath: ROOT, repositoryRoot: ROOT, archiveFormat: "none", config: functionsConfig } as const;
  const results = await Promise.all(
    names.map(async (name) => {
      const result = await zipFunction(join(source, `${name}.ts`), destFolder, options as never);
      if (!result) throw new Error(`no function ${name} in ${source}`);
      return result;
    }),
  );
  return Object.fromEntries(results.map((result) => [result.name, join(result.path, result.entryFilename)]));
}

/**
 * Calls a built function's Lambda handler as Netlify's Lambda does, in a fresh Node process whose
 * environment is `env` alone (no `CONTEXT`, no `DEPLOY_URL`: build-time variables never reach a
 * running function), once for each event in turn (one warm instance). Each answer is read whole,
 * a streamed body included.
 */
export async function invokeWarm(
  entry: string,
  events: LambdaEvent[],
  env: Record<string, string>,
): Promise<LambdaResult[]> {
  const out = `${entry}.${process.pid}.${Date.now()}.result.json`;
  const child = spawn(process.execPath, ["--experimental-transform-types", "--no-warnings", INVOKER, entry, out], {
    // HOME only for lambda-local, which looks for ~/.aws there: the function's own folder has none.
    env: { PATH: process.env.PATH ?? "", HOME: dirname(entry), ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  child.stdin.end(JSON.stringify(events));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`the function's process exited with ${code}:\n${output}`);
  const results = JSON.parse(await readFile(out, "utf8")) as LambdaResult[];
  await rm(out, { force: true });
  return results;
}

/** One call of a built function in a fresh instance (see invokeWarm). */
export async function invokeBuilt(
  entry: string,
  event: LambdaEvent,
  env: Record<string, string>,
): Promise<LambdaResult> {
  const [result] = await invokeWarm(entry, [event], env);
  return result!;
}
