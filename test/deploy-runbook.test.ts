import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../lib/config.ts";
import { envSchema } from "../lib/config/env-schema.ts";

/**
 * README's "Deploying" runbook against the project's own netlify-cli: each command and flag as its
 * command definitions declare them, the rules its code applies (a secret needs a deployed context),
 * what it does offline on a folder not linked to a site, and the settings the runbook leaves in
 * production as the service reads them.
 */
const ROOT = resolve(import.meta.dirname, "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const NETLIFY_BIN = join(ROOT, "node_modules/.bin/netlify");
/** AWS Lambda's limit on a function's environment, names and values together. */
const LAMBDA_ENV_BYTES = 4096;
/** What the runbook's own variables may take of it: the rest is left for Netlify's variables and later settings. */
const RUNBOOK_ENV_BYTES = 3072;

interface CliOption {
  long?: string;
  short?: string;
  required: boolean;
  optional: boolean;
  variadic: boolean;
  argChoices?: string[];
}
interface CliCommand {
  name(): string;
  aliases(): string[];
  options: CliOption[];
  registeredArguments: { required: boolean; variadic: boolean }[];
}

/** A netlify command line: its subcommand, flags with their values, and positional arguments. */
interface Invocation {
  line: string;
  viaNpx: boolean;
  command: string;
  flags: Map<string, string[]>;
  args: string[];
  /** Named in the prose (`npx netlify env:set`), not a line to run: its arguments may be left out. */
  mention: boolean;
}

/** Words of a shell command, quotes removed, `$(…)` kept whole; a trailing comment dropped. */
function words(segment: string): string[] {
  const out: string[] = [];
  let word = "";
  let started = false;
  for (let i = 0; i < segment.length; i += 1) {
    const ch = segment[i]!;
    if (ch === '"' || ch === "'") {
      // A quote left open (a string that goes on past the line) takes the rest of it.
      const end = segment.indexOf(ch, i + 1) === -1 ? segment.length : segment.indexOf(ch, i + 1);
      word += segment.slice(i + 1, end);
      started = true;
      i = end;
    } else if (/\s/.test(ch)) {
      if (started) out.push(word);
      word = "";
      started = false;
    } else if (ch === "#" && !started) {
      break;
    } else {
      word += ch;
      started = true;
    }
  }
  if (started) out.push(word);
  return out;
}

/** A line's commands, split at `|`, `||`, `&&` and `;` outside quotes and `$(…)`. */
function segments(line: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let current = "";
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "(") depth += 1;
    else if (ch === ")") depth -= 1;
    else if (depth === 0 && (ch === "|" || ch === ";" || (ch === "&" && line[i + 1] === "&"))) {
      parts.push(current);
      current = "";
      if (line[i + 1] === ch) i += 1;
      continue;
    } else if (ch === "#" && depth === 0 && /\s/.test(line[i - 1] ?? " ")) break;
    current += ch;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter(Boolean);
}

/** The fenced shell blocks of a part of the README, each as lines (continuations joined, comments dropped). */
function shellBlocks(markdown: string): string[][] {
  return [...markdown.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) =>
    m[1]!
      .replace(/\\\n\s*/g, " ")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#")),
  );
}
const shellLines = (markdown: string) => shellBlocks(markdown).flat();

/** The README's section under a `## ` heading, up to the next one. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

function invocationsOf(lines: string[], mention = false): Invocation[] {
  return lines.flatMap((line) =>
    segments(line).flatMap((segment) => {
      const all = words(segment);
      const viaNpx = all[0] === "npx";
      const rest = viaNpx ? all.slice(1) : all;
      if (rest[0] !== "netlify" || rest.length < 2) return [];
      const [command, ...tail] = rest.slice(1) as [string, ...string[]];
      return [{ line, viaNpx, command, flags: new Map(), args: tail, mention }];
    }),
  );
}

/** Every netlify command the README asks a reader to type: its shell blocks, and inline `netlify <setup command>`s. */
function readmeCommands(): Invocation[] {
  const inline = [...README.matchAll(/`((?:npx )?netlify (?:env:set|env:unset|link|init|login|deploy|status)[^`]*)`/g)];
  return [
    ...invocationsOf(shellLines(README)),
    ...invocationsOf(
      inline.map((m) => m[1]!),
      true,
    ),
  ];
}

let program: { commands: CliCommand[]; options: CliOption[] };
let supportedContexts: string[];

beforeAll(async () => {
  const cli = join(ROOT, "node_modules/netlify-cli/dist");
  const { createMainCommand } = (await import(pathToFileURL(join(cli, "commands/main.js")).href)) as {
    createMainCommand: () => typeof program;
  };
  program = createMainCommand();
  ({ SUPPORTED_CONTEXTS: supportedContexts } = (await import(pathToFileURL(join(cli, "utils/env/index.js")).href)) as {
    SUPPORTED_CONTEXTS: string[];
  });
});

/** Parses an invocation's words as netlify-cli's definition of its command does; throws on what it would refuse. */
function parse(invocation: Invocation): Invocation {
  const command = program.commands.find(
    (c) => c.name() === invocation.command || c.aliases().includes(invocation.command),
  );
  if (!command) throw new Error(`netlify has no command ${invocation.command}`);
  const options = [...command.options, ...program.options];
  const flags = new Map<string, string[]>();
  const args: string[] = [];
  const tail = [...invocation.args];
  while (tail.length > 0) {
    const word = tail.shift()!;
    if (!word.startsWith("-")) {
      args.push(word);
      continue;
    }
    const [name, inlineValue] = word.split("=", 2) as [string, string | undefined];
    const option = options.find((o) => o.long === name || o.short === name);
    if (!option) throw new Error(`netlify ${invocation.command} has no option ${name}`);
    const values: string[] = inlineValue === undefined ? [] : [inlineValue];
    if (option.required || option.optional) {
      while (tail.length > 0 && !tail[0]!.startsWith("-") && (values.length === 0 || option.variadic)) {
        values.push(tail.shift()!);
      }
      if (option.required && values.length === 0)
        throw new Error(`${name} of netlify ${invocation.command} needs a value`);
    }
    for (const value of values) {
      if (option.argChoices && !option.argChoices.includes(value)) throw new Error(`${name} ${value} is not a choice`);
    }
    flags.set(option.long!, [...(flags.get(option.long!) ?? []), ...values]);
  }
  const declared = command.registeredArguments;
  const needed = declared.filter((a) => a.required).length;
  if (
    (args.length < needed && !invocation.mention) ||
    (args.length > declared.length && !declared.some((a) => a.variadic))
  ) {
    throw new Error(`netlify ${invocation.command} takes ${needed}-${declared.length} arguments, given ${args.length}`);
  }
  return { ...invocation, flags, args };
}

/** The runbook: the first shell block under "### The runbook". */
const runbookLines = () => shellBlocks(section("Deploying").split("\n### The runbook\n")[1] ?? "")[0] ?? [];
const runbook = () => invocationsOf(runbookLines()).map(parse);
/** Every env:set of the section: the runbook's, and the previews' own settings. */
const envSets = () =>
  invocationsOf(shellLines(section("Deploying")))
    .map(parse)
    .filter((i) => i.command === "env:set");

/** Runs a README line in a folder linked to no site, as a user who never logged in, with no network. */
function runUnlinked(line: string): { status: number | null; output: string } {
  const folder = mkdtempSync(join(tmpdir(), "runbook-unlinked-"));
  const result = spawnSync("bash", ["-c", `set -eu -o pipefail\n${line.replaceAll("npx netlify", NETLIFY_BIN)}`], {
    cwd: folder,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: folder, NETLIFY_TELEMETRY_DISABLED: "1", CI: "1" },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("README's deploy runbook, against netlify-cli 26's own definitions", () => {
  it("runs netlify through npx (it is a devDependency), with commands and flags netlify-cli has", () => {
    const commands = readmeCommands();
    expect(commands.length).toBeGreaterThan(0);
    for (const invocation of commands) {
      expect({ line: invocation.line, viaNpx: invocation.viaNpx }).toEqual({ line: invocation.line, viaNpx: true });
      expect(() => parse(invocation), invocation.line).not.toThrow();
    }
  });

  it("logs in, links, stops unless linked, sets the settings, and only then deploys to production", () => {
    expect(runbookLines()[0]).toMatch(/^set -e/);
    const steps = runbook().map((i) => i.command);
    const at = (command: string) => steps.indexOf(command);
    expect(at("login")).toBeGreaterThanOrEqual(0);
    expect(Math.max(at("link"), at("init"))).toBeGreaterThan(at("login"));
    expect(at("status")).toBeGreaterThan(Math.max(at("link"), at("init")));
    expect(at("env:set")).toBeGreaterThan(at("status"));
    const last = runbook().at(-1)!;
    expect(last.command).toBe("deploy");
    expect(last.flags.has("--prod")).toBe(true);
  });

  it("names the contexts of every setting of the service, and a secret's only deployed ones (netlify-cli refuses dev or all)", () => {
    for (const set of envSets()) {
      const contexts = set.flags.get("--context") ?? [];
      // A setting for all contexts would reach `netlify dev` too, and a preview the production repository.
      if (set.args[0]! in envSchema.shape) expect(contexts.length, set.line).toBeGreaterThan(0);
      for (const context of contexts)
        expect(supportedContexts.includes(context) || context.startsWith("branch:")).toBe(true);
      if (set.flags.has("--secret")) {
        expect(contexts.length, set.line).toBeGreaterThan(0);
        expect(
          contexts.filter((c) => c === "dev" || c === "all"),
          set.line,
        ).toEqual([]);
      }
    }
  });

  it("leaves production a complete GitHub App configuration, within Lambda's 4 KB environment with a real key", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const env: Record<string, string> = {};
    for (const set of envSets()) {
      const contexts = set.flags.get("--context") ?? ["all"];
      const scopes = set.flags.get("--scope") ?? ["functions"];
      if (!scopes.includes("functions") || !contexts.some((c) => c === "production" || c === "all")) continue;
      // What netlify-cli refuses (a secret for all contexts, or dev) sets nothing.
      if (set.flags.has("--secret") && !set.flags.has("--context")) continue;
      const [name, value = ""] = set.args as [string, string?];
      env[name] = value.startsWith("$(cat ") ? pem : value;
    }
    const config = loadConfig(env, "production");
    expect(config.storage).toMatchObject({ kind: "github", github: { credentials: { kind: "app" } } });
    const bytes = Object.entries(env).reduce((sum, [name, value]) => sum + Buffer.byteLength(`${name}=${value}`), 0);
    expect(bytes).toBeLessThan(RUNBOOK_ENV_BYTES);
    expect(RUNBOOK_ENV_BYTES).toBeLessThan(LAMBDA_ENV_BYTES);
  });

  it("pins the functions' Node.js to the project's (.nvmrc for the build, AWS_LAMBDA_JS_RUNTIME for the runtime)", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string }>;
    };
    const major = lock.packages["node_modules/node"]!.version!.split(".")[0];
    expect(readFileSync(join(ROOT, ".nvmrc"), "utf8").trim()).toBe(major);
    const runtime = envSets().find((set) => set.args[0] === "AWS_LAMBDA_JS_RUNTIME");
    expect(runtime?.args[1]).toBe(`nodejs${major}.x`);
  });

  it("checks the link where it matters: env:set on an unlinked folder exits 0, the runbook's check does not", () => {
    const set = envSets()[0]!;
    const unlinked = runUnlinked(`npx netlify env:set ${set.args[0]} value`);
    expect(unlinked).toMatchObject({ status: 0, output: expect.stringContaining("No project id found") });
    const check = runbookLines().find((line) => /npx netlify status\b/.test(line))!;
    expect(runUnlinked(check).status).not.toBe(0);
  });
});
