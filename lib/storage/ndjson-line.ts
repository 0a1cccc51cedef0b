import type { StoredEvent } from "../events/stored-event.ts";

export function ndjsonLine(event: StoredEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/** What to write after `existing` so the file stays whole lines: a newline first if its last line is unterminated. */
export function appendLines(existing: string, lines: readonly string[]): string {
  const separator = existing.length > 0 && !existing.endsWith("\n") ? "\n" : "";
  return existing + separator + lines.join("");
}
