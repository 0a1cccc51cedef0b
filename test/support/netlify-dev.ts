import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const READY = /Local dev server ready/;
const START_TIMEOUT_MS = 280_000;
/** Variables of ours that the machine might have set: a test decides them itself. */
const OWN_VARIABLES = /^(GITHUB_|TELEMETRY_)/;

export interface NetlifyDev {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Where `netlify dev` keeps its local Netlify Blobs sandbox, and so the spool. */
const BLOBS_SANDBOX = fileURLToPath(new URL("../../.netlify/blobs-serve", import.meta.url));

/**
 * Runs `npm start -- --port <a free port>` (`netlify dev`, offline) as a user does, with `env` for
 * the functions and an empty Blobs sandbox (a spool left by an earlier run would be flushed into this
 * one's store), and resolves once it says it is ready.
 */
export async function startNetlifyDev(env: Record<string, string>): Promise<NetlifyDev> {
  await rm(BLOBS_SANDBOX, { recursive: true, force: true });
  const port = await freePort();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !OWN_VARIABLES.test(name)));
  const child = spawn("npm", ["start", "--silent", "--", "--port", String(port)], {
    cwd: ROOT,
    env: { ...inherited, ...env, BROWSER: "none" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));

  await new Promise<void>((resolve, reject) => {
    // Not ready in time: ended, so that no server outlives the test that gave up on it.
    const timer = setTimeout(
      () => void stop(child).then(() => reject(new Error(`netlify dev did not start:\n${output}`))),
      START_TIMEOUT_MS,
    );
    const check = () => {
      if (READY.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`netlify dev exited with ${code}:\n${output}`));
    });
  });
  return { url: `http://localhost:${port}`, output: () => output, stop: () => stop(child) };
}

/** Ends the start command's whole process group: netlify dev can outlive npm, and hang in its exit handlers. */
async function stop(child: ChildProcess): Promise<void> {
  const group = -child.pid!;
  signal(group, "SIGTERM");
  for (let waited = 0; waited < 10_000 && signal(group, 0); waited += 100) {
    if (waited === 5000) signal(group, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sends `name` to the process group; false when none of it is left. */
function signal(group: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(group, name);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
