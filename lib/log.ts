export type LogLevel = "info" | "warn" | "error";

type LogSink = (level: LogLevel, line: string) => void;

let sink: LogSink = (level, line) => (level === "info" ? console.log(line) : console.error(line));

/** One JSON object per line, so that Netlify's log view and any log drain can filter on fields. */
export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  sink(level, JSON.stringify({ level, event, ...fields }));
}

/** Where log lines go: a function's to its log; the command-line tool's to stderr with --verbose, else nowhere (it says what failed itself). */
export function setLogSink(next: LogSink): void {
  sink = next;
}

/** What an error says, for a log line or an answer: its message, or the thrown value itself. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
