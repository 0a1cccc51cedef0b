import { messageOf } from "../lib/log.ts";

/** A bad flag or argument: the usage line was printed. */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/** A failure as a maintainer should see it: one line naming what went wrong, never a stack trace (nor a message's own line breaks). */
export function failWith(error: unknown): void {
  process.stderr.write(
    `telemetry: ${messageOf(error)
      .trim()
      .replace(/\s*\n\s*/g, " ")}\n`,
  );
  process.exitCode = EXIT_FAILURE;
}
