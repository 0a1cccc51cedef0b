import type { StoredEvent } from "../events/stored-event.ts";
import type { EventTally } from "./event-tally.ts";

const NEWLINE = 0x0a;
/** The envelope fields every figure reads, and their JSON types: a line without them is not a stored event. */
const REQUIRED_TEXT = ["created_at", "hwid", "event_name", "app_version", "client_type"] as const;
/** `created_at` as the service writes it; a rollup keeps first and last times, which must stay comparable as text. */
const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A line that is not a stored event: where it is and what is wrong with it. */
export interface MalformedLine {
  path: string;
  line: number;
  message: string;
}

export interface TalliedLines {
  /** Bytes taken from `bytes`: up to the end of its last whole line (a line still being written waits). */
  bytes: number;
  lines: number;
  malformed: MalformedLine[];
}

/**
 * Counts the whole lines of `bytes` (a file's content from some offset) into `tally`. A line that
 * is not JSON, or not an object with the envelope's fields, is counted as malformed and reported,
 * never fatal: one bad line must not hide a day. The shape is checked by hand, not by the zod
 * schema, because this runs for every line of every day (a million a day) and reads only these fields.
 */
export function tallyLines(
  tally: EventTally,
  bytes: Buffer,
  where: { path: string; firstLine: number },
  { final = false }: { final?: boolean } = {},
): TalliedLines {
  // A file always ends with a newline; bytes after the last one are a write still under way, unless the file is done.
  const end = final ? bytes.length : bytes.lastIndexOf(NEWLINE) + 1;
  const text = bytes.toString("utf8", 0, end);
  const malformed: MalformedLine[] = [];
  let lines = 0;
  let start = 0;
  while (start < text.length) {
    let stop = text.indexOf("\n", start);
    if (stop === -1) stop = text.length;
    const line = text.slice(start, stop);
    start = stop + 1;
    lines += 1;
    if (line.trim() === "") continue;
    const problem = problemOf(line);
    if (typeof problem === "string") {
      tally.ingest.lines += 1;
      tally.ingest.malformed += 1;
      malformed.push({ path: where.path, line: where.firstLine + lines - 1, message: problem });
    } else {
      tally.add(problem);
    }
  }
  return { bytes: end, lines, malformed };
}

/** The event a line holds, or what keeps it from being one. */
function problemOf(line: string): StoredEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return "not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const record = value as Record<string, unknown>;
  for (const field of REQUIRED_TEXT) {
    if (typeof record[field] !== "string") return `${field} is missing or not a string`;
  }
  if (!CREATED_AT.test(record.created_at as string))
    return "created_at is not a UTC timestamp (YYYY-MM-DDTHH:MM:SS.sssZ)";
  const metadata = record.metadata;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return "metadata is not an object";
  return record as StoredEvent;
}
