/** A table cell is cut to this many characters: the table is for reading, json and csv keep every value whole. */
const MAX_CELL_WIDTH = 80;
const ELLIPSIS = "…";
const COLUMN_GAP = "  ";
/** What a table shows for SQL's NULL, as DuckDB's own shell does; csv leaves the field empty, json has null. */
const NULL_TEXT = "NULL";
/** RFC 4180's record separator. */
const CRLF = "\r\n";
/** A csv field holding any of these is quoted (RFC 4180). */
const NEEDS_QUOTES = /[",\r\n]/;
/** Characters that would break a table's line, shown escaped as JSON escapes them. */
const CONTROL = /[\u0000-\u001f\u007f]/g;

export type RowFormat = "table" | "json" | "csv";

/** Rows by column name, and the columns in the order shown: a query's answer, or a section of a report. */
export interface RowSet {
  columns: readonly string[];
  rows: readonly Record<string, unknown>[];
}

/** A query's rows as text, every line ending in a newline: aligned for a terminal, one JSON array, or csv. */
export function formatRows({ columns, rows }: RowSet, format: RowFormat): string {
  if (format === "json") return `${JSON.stringify(rows)}\n`;
  if (format === "csv") return csv(columns, rows);
  return table(columns, rows);
}

function table(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cells = rows.map((row) => columns.map((column) => cellText(row[column])));
  const widths = columns.map((column, i) =>
    cells.reduce((width, row) => Math.max(width, row[i]!.length), column.length),
  );
  // Numbers line up on their last digit, as in a spreadsheet.
  const numeric = columns.map(
    (column) =>
      rows.some((row) => row[column] != null) &&
      rows.every((row) => row[column] == null || typeof row[column] === "number"),
  );
  const line = (texts: readonly string[]) =>
    texts
      .map((text, i) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)))
      .join(COLUMN_GAP)
      .trimEnd();
  return [line(columns), line(widths.map((width) => "-".repeat(width))), ...cells.map(line)]
    .map((text) => `${text}\n`)
    .join("");
}

function cellText(value: unknown): string {
  const text = (value === null || value === undefined ? NULL_TEXT : plainText(value)).replace(CONTROL, (c) =>
    JSON.stringify(c).slice(1, -1),
  );
  return text.length > MAX_CELL_WIDTH ? `${text.slice(0, MAX_CELL_WIDTH - ELLIPSIS.length)}${ELLIPSIS}` : text;
}

function csv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const field = (value: unknown) => {
    const text = value === null || value === undefined ? "" : plainText(value);
    return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns, ...rows.map((row) => columns.map((column) => row[column]))]
    .map((values) => `${values.map(field).join(",")}${CRLF}`)
    .join("");
}

/** A value as one cell: text as it is, JSON (objects, arrays) as JSON text. */
function plainText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return value === undefined ? "undefined" : (JSON.stringify(value) ?? "");
}
