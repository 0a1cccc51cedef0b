import type { StoredEvent } from "./event.ts";

export function toLine(event: StoredEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/**
 * The events not yet in `text`. Lines start with `{"event_id":"…"`, so a substring test is exact,
 * and it lets a writer that lost track of an earlier attempt (a timeout after GitHub accepted it)
 * append what is missing instead of a second copy.
 */
export function missingFrom(text: string, events: readonly StoredEvent[]): StoredEvent[] {
  return events.filter((event) => !text.includes(`{"event_id":"${event.event_id}"`));
}

/** What to write after `existing` so the file stays whole lines: a newline first if its last line is unterminated. */
export function appendLines(existing: string, lines: readonly string[]): string {
  const separator = existing.length > 0 && !existing.endsWith("\n") ? "\n" : "";
  return existing + separator + lines.join("");
}
