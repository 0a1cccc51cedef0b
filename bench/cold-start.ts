/**
 * `npm run bench -- cold-start`: `npm start` as a new user runs it (netlify dev builds every function
 * afresh at each start): the time until it says it is ready, the first answer after that, and each
 * function's cold import (its built module imported in a fresh Node process, as a new instance does).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startNetlifyDev } from "../test/support/netlify-dev.ts";

const SERVED = fileURLToPath(new URL("../.netlify/functions-serve", import.meta.url));
/** The Vector Inspector client's own limit: past it, it gives the event up. */
export const CLIENT_TIMEOUT_MS = 5000;
/** The README's first event. */
const EVENT = { hwid: "a1b2c3d4-e5f6-7890-abcd-ef1234567890", event_name: "app_launch", app_version: "1.2.3" };

export interface ColdStartFigures {
  readyMs: number;
  firstAnswerMs: number;
  firstStatus: number;
  /** Each function's built module: its cold import, and the files of its folder (its bundle and what was traced). */
  imports: { name: string; ms: number; files: number }[];
}

export async function coldStart(): Promise<ColdStartFigures> {
  const dir = await mkdtemp(join(tmpdir(), "bench-cold-start-"));
  const started = performance.now();
  const dev = await startNetlifyDev({ TELEMETRY_LOCAL_DIR: dir });
  const readyMs = performance.now() - started;
  const sent = performance.now();
  const response = await fetch(`${dev.url}/api/v1/telemetry`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(EVENT),
  });
  const firstAnswerMs = performance.now() - sent;
  await dev.stop();
  await rm(dir, { recursive: true, force: true });
  const imports = [];
  for (const name of (await readdir(SERVED, { withFileTypes: true })).filter((e) => e.isDirectory())) {
    const folder = join(SERVED, name.name);
    const built = (await readdir(join(folder, "netlify", "functions"))).find((file) => /\.m?js$/.test(file))!;
    const files = (await readdir(folder, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
    imports.push({ name: name.name, ms: await coldImport(join(folder, "netlify", "functions", built)), files });
  }
  return { readyMs, firstAnswerMs, firstStatus: response.status, imports };
}

export function printColdStart(figures: ColdStartFigures): void {
  const rows: [string, string][] = [
    ["start to ready", `${(figures.readyMs / 1000).toFixed(1)} s`],
    [
      `first answer after ready (${figures.firstStatus})`,
      `${(figures.firstAnswerMs / 1000).toFixed(2)} s  (the client gives up at ${CLIENT_TIMEOUT_MS / 1000} s)`,
    ],
    ...figures.imports.map(({ name, ms, files }): [string, string] => [
      `cold import of ${name}`,
      `${ms.toFixed(0)} ms  (${files} files)`,
    ]),
  ];
  for (const [label, value] of rows) console.log(`    ${label.padEnd(52)} ${value}`);
}

/** The ms a fresh Node process takes to import `file` (its own start-up not counted). */
async function coldImport(file: string): Promise<number> {
  const timed = "const t = performance.now(); await import(process.env.MODULE); console.log(performance.now() - t);";
  const child = spawn(process.execPath, ["--input-type=module", "-e", timed], {
    env: { ...process.env, MODULE: pathToFileURL(file).href },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`importing ${file} failed (exit ${String(code)})`);
  return Number(output.trim());
}
