export type LogLevel = "info" | "warn" | "error";

/** One JSON object per line, so that Netlify's log view and any log drain can filter on fields. */
export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "info") console.log(line);
  else console.error(line);
}
