export type LogLevel = "info" | "warn" | "error";

/** One JSON object per line, so that Netlify's log view and any log drain can filter on fields. */
export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "info") console.log(line);
  else console.error(line);
}

/** What an error says, for a log line or an answer: its message, or the thrown value itself. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
