import { spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `telemetry …` as a maintainer runs it: its own process, on the project's Node, in a clean environment. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  const child = spawn(
    process.execPath,
    ["--experimental-transform-types", "--no-warnings", "cli/telemetry.ts", ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", ...env },
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
