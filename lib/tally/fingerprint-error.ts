import { createHash } from "node:crypto";
import type { StoredEvent } from "../events/stored-event.ts";

/** Events named so are errors, whatever they carry. */
const ERROR_EVENTS = new Set(["UncaughtException", "QtError"]);
/** A Python traceback's frame line: `File "path", line N, in function`. */
const FRAME = /^\s*File "([^"]+)", line \d+, in (.+)$/;
/** A frame in the interpreter's or a package's code, not the application's. */
const LIBRARY_FRAME = /[\\/](?:site-packages|dist-packages|lib[\\/]python\d[\d.]*)[\\/]|^<frozen /;
/** The last line of a Python traceback, and the head of `format_exception_only`: `Type: message`. */
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt)|[A-Z]\w*Error): ?(.*)$/;
/** What varies between occurrences of one error and is masked before it is fingerprinted. */
const VARIABLE_PARTS: readonly [RegExp, string][] = [
  [/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, "<url>"],
  [/'[^']*'|"[^"]*"/g, "<str>"],
  [/(?:[A-Za-z]:)?(?:[\\/][\w.@[\]-]+){2,}[\\/]?/g, "<path>"],
  [/\b0x[0-9a-f]+\b|\b[0-9a-f]{8,}\b/gi, "<hex>"],
  [/\d+(?:\.\d+)*/g, "<n>"],
];
const FINGERPRINT_HEX = 16;

/** One error occurrence, as the error groups count it. */
export interface ErrorOccurrence {
  /** The group: the client's `error_hash` when it sent one, else one made the same way. */
  fingerprint: string;
  exceptionType: string;
  message: string;
}

/** Whether events of this name are errors by their name alone (an `exception_type` makes any event one). */
export function isErrorEventName(name: string): boolean {
  return ERROR_EVENTS.has(name) || name.endsWith("_failed") || name.endsWith("Error");
}

/**
 * The error an event reports, if it reports one (`UncaughtException`, `QtError`, a name ending
 * in `_failed` or `Error`, or an `exception_type`), grouped by fingerprint: Vector Inspector's
 * own `metadata.error_hash` when present, else one derived as it derives it: the exception type,
 * the innermost frame of the application's own code, and the message with numbers, hex, quoted
 * strings, URLs and paths masked, so that occurrences differing only in those fall together.
 */
export function fingerprintError(event: StoredEvent): ErrorOccurrence | undefined {
  const metadata = event.metadata;
  const text = (key: string) => (typeof metadata[key] === "string" ? metadata[key] : undefined);
  const isError = isErrorEventName(event.event_name) || text("exception_type") !== undefined;
  if (!isError) return undefined;

  const traceback = text("traceback") ?? "";
  const lines = traceback.split(/\r?\n/).map((line) => line.trimEnd());
  const last = [...lines]
    .reverse()
    .map((line) => EXCEPTION_LINE.exec(line))
    .find((match) => match !== null);
  const raw = text("message") ?? last?.[2] ?? "";
  const exceptionType = text("exception_type") ?? last?.[1] ?? EXCEPTION_LINE.exec(raw)?.[1] ?? event.event_name;
  const message = raw.replace(new RegExp(`^${escape(exceptionType)}: ?`), "");
  const hash = text("error_hash");
  if (hash) return { fingerprint: hash, exceptionType, message };
  return { fingerprint: digest([exceptionType, appFrame(lines), maskMessage(message)]), exceptionType, message };
}

/** The innermost frame of the application's own code, as `file:function` (no line: it moves between versions). */
function appFrame(lines: readonly string[]): string {
  const frames = lines.flatMap((line) => {
    const match = FRAME.exec(line);
    return match ? [{ path: match[1]!, fn: match[2]! }] : [];
  });
  const own = frames.filter((frame) => !LIBRARY_FRAME.test(frame.path));
  const frame = own.at(-1) ?? frames.at(-1);
  return frame ? `${frame.path.split(/[\\/]/).at(-1)}:${frame.fn}` : "";
}

/** A message with what varies between occurrences masked (`could not read <str> after <n> tries`): what groups them, and shows nothing particular. */
export function maskMessage(message: string): string {
  return VARIABLE_PARTS.reduce((text, [pattern, marker]) => text.replace(pattern, marker), message.trim());
}

function digest(parts: readonly string[]): string {
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, FINGERPRINT_HEX);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
