import { escapeLineBreaks } from "../storage/ndjson-line.ts";

/** An `hwid` field as a stored line writes it; its value still JSON-escaped. */
const HWID_FIELD = /"hwid":"((?:[^"\\]|\\.)*)"/g;

/** Finds the lines of some installs in stored text, at a cost that does not grow with their number. */
export interface InstallMatcher {
  /** Whether `text` (a file, or a line) names one of the installs in an `hwid` field. */
  names(text: string): boolean;
  /** The install a line belongs to, if it is one of them (its top-level `hwid`, parsed). */
  ownerOf(line: string): string | undefined;
}

/**
 * A matcher of the installs `hwids` (as stored), each looked for as the store writes it: JSON-escaped,
 * with the line breaks ndjsonLine escapes (U+2028, U+2029, U+0085) escaped too, so that an id holding
 * one is found. One pass of one pattern a text, whatever the number of ids.
 */
export function installMatcher(hwids: Iterable<string>): InstallMatcher {
  const wanted = new Set(hwids);
  const written = new Set([...wanted].map((hwid) => escapeLineBreaks(JSON.stringify(hwid)).slice(1, -1)));
  const names = (text: string) => {
    for (const match of text.matchAll(HWID_FIELD)) if (written.has(match[1]!)) return true;
    return false;
  };
  return {
    names,
    ownerOf: (line) => {
      if (!names(line)) return undefined;
      const hwid = hwidOf(line);
      return hwid !== undefined && wanted.has(hwid) ? hwid : undefined;
    },
  };
}

/** Every id an `hwid` field of `text` holds, decoded: what the install index learns from a file. */
export function hwidsNamed(text: string): Set<string> {
  const written = new Set<string>();
  for (const match of text.matchAll(HWID_FIELD)) written.add(match[1]!);
  const ids = new Set<string>();
  for (const escaped of written) {
    try {
      ids.add(JSON.parse(`"${escaped}"`) as string);
    } catch {
      // Not a JSON string after all: no id of a stored line.
    }
  }
  return ids;
}

function hwidOf(line: string): string | undefined {
  try {
    const value = JSON.parse(line) as { hwid?: unknown };
    return typeof value.hwid === "string" ? value.hwid : undefined;
  } catch {
    return undefined;
  }
}
