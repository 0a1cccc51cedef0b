import type { MalformedLine } from "../lib/tally/tally-lines.ts";
import { EXIT_FAILURE } from "./fail.ts";

/** Lines named on stderr before the rest are only counted. */
const NAMED_LINES = 20;

/** Malformed lines are left out of the figures, named on stderr, and make the exit status 1: never silent. */
export function reportMalformed(malformed: readonly MalformedLine[]): void {
  if (malformed.length === 0) return;
  for (const line of malformed.slice(0, NAMED_LINES))
    process.stderr.write(`${line.path}:${line.line}: ${line.message}\n`);
  if (malformed.length > NAMED_LINES) process.stderr.write(`... and ${malformed.length - NAMED_LINES} more\n`);
  process.stderr.write(`telemetry: ${malformed.length} malformed line(s) left out of the figures\n`);
  process.exitCode = EXIT_FAILURE;
}
