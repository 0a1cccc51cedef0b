#!/usr/bin/env -S node --experimental-transform-types --no-warnings
// The maintainers' command-line tool: `npx telemetry <command>`; each command is an adapter of a few lines over lib/.
import { Command, CommanderError } from "commander";
import { registerDashboard } from "./commands/dashboard.ts";
import { registerDoctor } from "./commands/doctor.ts";
import { registerErase } from "./commands/erase.ts";
import { registerExport } from "./commands/export.ts";
import { registerPublish } from "./commands/publish.ts";
import { registerPull } from "./commands/pull.ts";
import { registerReport } from "./commands/report.ts";
import { registerRetention } from "./commands/retention.ts";
import { registerServe } from "./commands/serve.ts";
import { registerSql } from "./commands/sql.ts";
import { setLogSink } from "../lib/log.ts";
import { EXIT_USAGE, failWith } from "./fail.ts";

const program = new Command("telemetry")
  .description("Read, query and publish the telemetry kept in the data repository")
  .option("--verbose", "print the service's log lines (JSON) on stderr")
  .exitOverride()
  .showHelpAfterError("(run with --help for usage)")
  .configureOutput({ outputError: (text, write) => write(text) });

program.hook("preAction", () => {
  setLogSink(program.opts().verbose ? (_level, line) => process.stderr.write(`${line}\n`) : () => {});
});

for (const register of [
  registerPull,
  registerReport,
  registerSql,
  registerDashboard,
  registerPublish,
  registerExport,
  registerErase,
  registerRetention,
  registerDoctor,
  registerServe,
]) {
  const command = register(program);
  command.showHelpAfterError(`Usage: telemetry ${command.name()} ${command.usage()}`);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with status 0; a bad flag or argument with 2.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    failWith(error);
  }
}
