/**
 * `npm start`: `netlify dev` with its arguments, holding back its "Local dev server ready" banner
 * until the functions are built. `netlify dev` prints it before it builds them, and a request to any
 * path but /.netlify/functions/ waits for every build (a function may claim any path): a client's
 * first events would time out. The banner is printed once the health check and the ingest
 * endpoint's preflight (which store nothing) have answered.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { devServerEnv } from "../lib/config.ts";

const NETLIFY_BIN = createRequire(import.meta.url).resolve("netlify-cli/bin/run.js");
const READY = /Local dev server ready: (http:\/\/\S+)/;
const ANSI = /\x1b\[[0-9;]*m/g;

const started = performance.now();
const child = spawn(process.execPath, [NETLIFY_BIN, "dev", ...process.argv.slice(2)], {
  stdio: ["inherit", "pipe", "pipe"],
  env: devServerEnv(process.stdout.isTTY),
});
// netlify dev can hang in its exit handlers: ended for good if it has not gone a few seconds after the signal.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    child.kill(signal);
    setTimeout(() => child.kill("SIGKILL"), 5000).unref();
  });
}
child.on("exit", (code) => process.exit(code ?? 1));
child.stderr.pipe(process.stderr);

// The banner is a box of lines: held from its first line, printed whole once the functions answer.
let box: string[] | undefined;
createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => {
  const plain = line.replace(ANSI, "");
  if (box === undefined && plain.trimStart().startsWith("╭")) box = [];
  if (box === undefined) {
    console.log(line);
    return;
  }
  box.push(line);
  if (!plain.trimStart().startsWith("╰")) return;
  const held = box;
  box = undefined;
  const url = held.map((l) => READY.exec(l.replace(ANSI, ""))?.[1]).find((found) => found !== undefined);
  if (url === undefined) console.log(held.join("\n"));
  else void whenBuilt(url).then(() => console.log(held.join("\n")));
});

/** Resolves once the endpoints answer, so every function is built (any answer will do: it only has to come). */
async function whenBuilt(url: string): Promise<void> {
  try {
    await fetch(new URL("/api/v1/health", url));
    await fetch(new URL("/api/v1/telemetry", url), { method: "OPTIONS" });
    console.log(`⬥ Functions built and answering, ${((performance.now() - started) / 1000).toFixed(1)} s after start`);
  } catch (error) {
    console.log(`⬥ The functions did not answer at ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
