import { spawn } from "node:child_process";
import { join } from "node:path";
import type { LaunchOptions } from "playwright-core";

const ROOT = join(import.meta.dirname, "..", "..");
/** Debian's chromium (.ci/run installs it), never a browser download; flags keep it from calling home. */
export const CHROMIUM: LaunchOptions = {
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export interface Served {
  /** The URL the command printed. */
  url: string;
  /** What it wrote on stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** `telemetry serve …` in its own process, once it printed its URL; fails with its stderr if it exits first. */
export function serveCli(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(
    process.execPath,
    ["--experimental-transform-types", "--no-warnings", "cli/telemetry.ts", "serve", ...args],
    { cwd: ROOT, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", ...env } },
  );
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /(http:\/\/\S+\/)/.exec(stdout)?.[1];
      if (url)
        resolve({
          url,
          stderr: () => stderr,
          stop: async () => {
            child.kill();
            await exited;
          },
        });
    });
    child.once("exit", (code) => reject(new Error(`telemetry serve exited (${code}): ${stderr}`)));
  });
}
