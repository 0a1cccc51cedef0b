import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The rules lib/'s layout keeps, read from the source itself: which room may import which, who may
 * touch the platform, and that every module is named after what it exports and exports nothing
 * that no other file uses.
 */
const ROOT = resolve(import.meta.dirname, "..");
/** The folders whose TypeScript is read: the service, and everything that uses it. */
const SOURCE_DIRS = ["lib", "netlify", "cli", "test", "bench", "schema"];
/**
 * The wiring at lib/'s top: configuration (lib/config.ts, the one reader of the environment, and its
 * sections in lib/config/), time, day arithmetic, logging and the shape of an issue, which any room may use.
 */
const BASE = new Set([
  "lib/config.ts",
  "lib/config/config-error.ts",
  "lib/config/env-schema.ts",
  "lib/config/github-storage.ts",
  "lib/clock.ts",
  "lib/day.ts",
  "lib/log.ts",
  "lib/issue.ts",
]);
/** What each part of lib/ may import, besides itself and the base; the pipeline reads left to right. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  base: [],
  runtime: ["spool", "storage", "platform", "tally", "present", "insights", "lifecycle"],
  http: ["runtime", "events", "spool", "storage", "tally", "present", "insights", "lifecycle"],
  events: [],
  spool: ["storage", "events"],
  storage: ["events"],
  platform: ["spool"],
  // The tally: a set of events as figures, and the day rollup that stores them.
  tally: ["events", "storage"],
  // Presenting: the period report, its formats, the dashboard and its charts.
  present: ["tally", "storage", "events"],
  // One job shape: a budget, a commit under the flusher's lease, a report.
  jobs: ["spool", "storage", "events"],
  // The hourly job's alerts: issues in the data repository, judged from the figures and the pipeline's state.
  alerts: ["tally", "storage", "spool", "events"],
  // The hourly job: the rollups of the days that changed, the dashboard, and the alerts.
  insights: ["present", "tally", "events", "storage", "spool", "jobs", "alerts"],
  // The data's life: erasure, export, retention.
  lifecycle: ["events", "storage", "spool", "tally", "insights", "jobs"],
  // The interactive dashboard's questions (telemetry serve): the report's figures, filtered and drilled into.
  explore: ["present", "tally", "insights", "storage", "events"],
};

interface Module {
  path: string;
  /** Relative paths of the project's modules it imports (or re-exports from). */
  imports: string[];
  /** Bare package specifiers it imports. */
  packages: string[];
  /** Names it imports from each project module, by that module's path. */
  names: Map<string, string[]>;
  exports: string[];
  /** Its exports that are values (functions, classes, constants), not types. */
  values: string[];
}

const modules = readModules();
const lib = modules.filter((module) => module.path.startsWith("lib/"));

describe("lib/'s layout", () => {
  it("has only the known rooms", () => {
    const rooms = new Set(lib.map((module) => partOf(module.path)));
    expect([...rooms].sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });

  it("imports one way: http → events, spool, storage; spool → storage, events; storage → events", () => {
    const wrong = lib.flatMap((module) =>
      module.imports
        .filter((target) => {
          const from = partOf(module.path);
          const to = partOf(target);
          return to !== from && to !== "base" && !MAY_IMPORT[from]!.includes(to);
        })
        .map((target) => `${module.path} → ${target}`),
    );
    expect(wrong).toEqual([]);
  });

  it("has no import cycles", () => {
    const graph = new Map(lib.map((module) => [module.path, module.imports]));
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (path: string, trail: string[]): void => {
      if (state.get(path) === "done") return;
      if (state.get(path) === "visiting") {
        cycles.push([...trail.slice(trail.indexOf(path)), path].join(" → "));
        return;
      }
      state.set(path, "visiting");
      for (const next of graph.get(path) ?? []) visit(next, [...trail, path]);
      state.set(path, "done");
    };
    for (const path of graph.keys()) visit(path, []);
    expect(cycles).toEqual([]);
  });

  it("keeps @netlify/* to platform/ and netlify/functions/", () => {
    const touching = modules
      .filter((module) => module.path.startsWith("lib/") || module.path.startsWith("netlify/"))
      .filter((module) => module.packages.some((name) => name.startsWith("@netlify/")))
      .map((module) => module.path)
      .filter((path) => !path.startsWith("lib/platform/") && !path.startsWith("netlify/functions/"));
    expect(touching).toEqual([]);
  });

  it("is imported by no lib module outside http/ when it is http/", () => {
    const intoHttp = lib
      .filter((module) => partOf(module.path) !== "http")
      .flatMap((module) => module.imports.filter((target) => partOf(target) === "http"));
    expect(intoHttp).toEqual([]);
  });

  it("names each module after what it exports", () => {
    const misnamed = lib
      .filter((module) => !module.exports.some((name) => name.toLowerCase() === stemOf(module.path)))
      .map((module) => `${module.path} exports ${module.exports.join(", ")}`);
    expect(misnamed).toEqual([]);
  });

  it("gives no two modules of lib/ and netlify/ an export of the same name", () => {
    const owners = new Map<string, string[]>();
    for (const module of modules.filter((m) => m.path.startsWith("lib/") || m.path.startsWith("netlify/"))) {
      // A function's default export is its handler, and `config` its settings: the platform's names, not ours.
      for (const name of module.exports.filter(
        (n) => n !== "default" && !(n === "config" && module.path.startsWith("netlify/")),
      )) {
        owners.set(name, [...(owners.get(name) ?? []), module.path]);
      }
    }
    expect([...owners].filter(([, paths]) => paths.length > 1)).toEqual([]);
  });

  it("exports no value that no other file uses (a type may be exported for the signatures it appears in)", () => {
    const used = new Set(
      modules.flatMap((module) => [...module.names].flatMap(([target, names]) => names.map((n) => `${target}#${n}`))),
    );
    const unused = lib.flatMap((module) =>
      module.values.filter((name) => !used.has(`${module.path}#${name}`)).map((name) => `${module.path}#${name}`),
    );
    expect(unused).toEqual([]);
  });
});

/**
 * What the code around lib/ may import of the project, by folder (the deepest folder listed that holds a module
 * rules it): the CLI and the benchmark use any room of lib/; the benchmark also runs the test stand-ins.
 */
const AROUND_LIB: Record<string, readonly string[]> = {
  "cli/": ["cli/", "lib/"],
  "cli/commands/": ["cli/", "lib/"],
  "bench/": ["bench/", "lib/", "test/support/"],
};
/** What a folder never imports: the service never the tools around it, a function never the CLI. */
const NEVER: Record<string, readonly string[]> = {
  "lib/": ["cli/", "bench/", "test/"],
  "netlify/functions/": ["cli/", "bench/", "test/"],
};
/** The folders a source file is at most MAX_LINES long in. */
const SHORT_DIRS = ["lib", "cli", "netlify", "bench"];
const MAX_LINES = 300;
/** Modules a folder of lib/ holds at most. */
const MAX_MODULES = 12;

describe("the code around lib/", () => {
  it("imports one way: cli/ and bench/ use lib/ (and bench/ the test stand-ins), cli/commands/ uses cli/ and lib/", () => {
    const wrong = modules.flatMap((module) => {
      const allowed = ruleFor(module.path, AROUND_LIB);
      if (!allowed) return [];
      return module.imports
        .filter((target) => !allowed.some((folder) => target.startsWith(folder)))
        .map((target) => `${module.path} → ${target}`);
    });
    expect(wrong).toEqual([]);
  });

  it("is never imported by lib/, nor the CLI by netlify/functions/", () => {
    const wrong = modules.flatMap((module) => {
      const denied = ruleFor(module.path, NEVER) ?? [];
      return module.imports
        .filter((target) => denied.some((folder) => target.startsWith(folder)))
        .map((target) => `${module.path} → ${target}`);
    });
    expect(wrong).toEqual([]);
  });

  it(`keeps every folder of lib/ to ${MAX_MODULES} modules at most: a folder holds one concept`, () => {
    const counts = new Map<string, number>();
    for (const module of lib) counts.set(dirname(module.path), (counts.get(dirname(module.path)) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > MAX_MODULES).map(([dir, n]) => `${dir}: ${n} modules`)).toEqual([]);
  });

  it(`keeps every source file of ${SHORT_DIRS.join("/, ")}/ within ${MAX_LINES} lines`, () => {
    const long = SHORT_DIRS.flatMap((dir) => filesUnder(join(ROOT, dir)))
      .map((file) => ({ path: relative(ROOT, file), lines: readFileSync(file, "utf8").split("\n").length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ path, lines }) => `${path}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});

/** The rule of the deepest folder in `rules` that holds `path`, if any does. */
function ruleFor(path: string, rules: Record<string, readonly string[]>): readonly string[] | undefined {
  const folder = Object.keys(rules)
    .filter((prefix) => path.startsWith(prefix))
    .sort((a, b) => b.length - a.length)[0];
  return folder === undefined ? undefined : rules[folder];
}

/** "base", "runtime", or the room (lib/<room>/…) a lib module belongs to. */
function partOf(path: string): string {
  if (BASE.has(path)) return "base";
  if (path === "lib/runtime.ts") return "runtime";
  return path.split("/")[1]!;
}

/** A file's name as an export would spell it, lower-cased: check-shape.ts → checkshape. */
function stemOf(path: string): string {
  return path.split("/").at(-1)!.replace(/\.ts$/, "").replaceAll("-", "").toLowerCase();
}

function readModules(): Module[] {
  return SOURCE_DIRS.flatMap((dir) => filesUnder(join(ROOT, dir))).map(readModule);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function readModule(file: string): Module {
  const path = relative(ROOT, file);
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const module: Module = { path, imports: [], packages: [], names: new Map(), exports: [], values: [] };
  for (const statement of source.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier) {
      const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
      if (!specifier.startsWith(".")) {
        module.packages.push(specifier);
        continue;
      }
      const target = relative(ROOT, resolve(dirname(file), specifier));
      module.imports.push(target);
      module.names.set(target, [...(module.names.get(target) ?? []), ...importedNames(statement)]);
    } else if (hasModifier(statement, ts.SyntaxKind.ExportKeyword)) {
      const names = declaredNames(statement);
      module.exports.push(...names);
      if (!ts.isInterfaceDeclaration(statement) && !ts.isTypeAliasDeclaration(statement)) module.values.push(...names);
    }
  }
  return module;
}

function importedNames(statement: ts.ImportDeclaration | ts.ExportDeclaration): string[] {
  if (ts.isExportDeclaration(statement)) {
    const clause = statement.exportClause;
    return clause && ts.isNamedExports(clause) ? clause.elements.map((e) => (e.propertyName ?? e.name).text) : [];
  }
  const clause = statement.importClause;
  const bindings = clause?.namedBindings;
  return [
    ...(clause?.name ? ["default"] : []),
    ...(bindings && ts.isNamedImports(bindings) ? bindings.elements.map((e) => (e.propertyName ?? e.name).text) : []),
  ];
}

function hasModifier(statement: ts.Statement, kind: ts.SyntaxKind): boolean {
  return (
    ts.canHaveModifiers(statement) && (ts.getModifiers(statement) ?? []).some((modifier) => modifier.kind === kind)
  );
}

function declaredNames(statement: ts.Statement): string[] {
  if (hasModifier(statement, ts.SyntaxKind.DefaultKeyword)) return ["default"];
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
  }
  const name = (statement as ts.DeclarationStatement).name;
  return name && ts.isIdentifier(name) ? [name.text] : ["default"];
}
