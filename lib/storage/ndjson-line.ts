import type { StoredEvent } from "../events/stored-event.ts";

/**
 * Characters JSON may hold raw that many line readers take for a line break (Python's
 * `str.splitlines`, JavaScript's `u` line terminators): NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR.
 */
const LINE_BREAKS_JSON_KEEPS = /[\u0085\u2028\u2029]/g;

/** One stored line: the event as JSON, with every character a reader could split a line on escaped. */
export function ndjsonLine(event: StoredEvent): string {
  return `${escapeLineBreaks(JSON.stringify(event))}\n`;
}

/** JSON text as a stored line holds it: every character a reader could split a line on escaped. */
export function escapeLineBreaks(json: string): string {
  return json.replace(
    LINE_BREAKS_JSON_KEEPS,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** What to write after `existing` so the file stays whole lines: a newline first if its last line is unterminated. */
export function appendLines(existing: string, lines: readonly string[]): string {
  const separator = existing.length > 0 && !existing.endsWith("\n") ? "\n" : "";
  return existing + separator + lines.join("");
}
