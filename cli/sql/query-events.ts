import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { toJsonSafe } from "./to-json-safe.ts";

const DEFAULT_PREFIX = "telemetry";
/** Both layouts: a folder per day (`YYYY/MM/DD/0001.ndjson`) and the older file per day (`YYYY/MM/DD.ndjson`). */
const NDJSON_GLOB = "**/*.ndjson";
/** A line of nothing but JSON's whitespace; trim() itself, slow on every line, runs only on the rare line that may be one. */
const BLANK = `CASE WHEN line = '' THEN true WHEN starts_with(line, '{') THEN false ELSE trim(line, ' ' || chr(9) || chr(13)) = '' END`;

type Kind = "string" | "timestamp" | "object" | "array" | "integer";

/** How each kind of value is told apart in a JSON column (which holds the value's canonical text) and read. */
const KINDS: Record<Kind, { label: string; read: string; wrong: (json: string) => string }> = {
  string: { label: "a string", read: "VARCHAR", wrong: (x) => `NOT starts_with(${x}, '"')` },
  // A timestamp needs no escapes, so the text between the quotes is the string itself. It is read as
  // text and cast in the view by the very cast that checked it: the JSON reader's own parse differs.
  timestamp: {
    label: "a timestamp",
    read: "VARCHAR",
    wrong: (x) => `NOT starts_with(${x}, '"') OR try_cast(${x}[2:-2] AS TIMESTAMPTZ) IS NULL`,
  },
  object: { label: "an object", read: "JSON", wrong: (x) => `NOT starts_with(${x}, '{')` },
  array: { label: "an array", read: "JSON", wrong: (x) => `NOT starts_with(${x}, '[')` },
  integer: {
    label: "an integer",
    read: "INTEGER",
    wrong: (x) => `json_type(${x}) NOT IN ('BIGINT', 'UBIGINT') OR try_cast(${x} AS INTEGER) IS NULL`,
  },
};

/**
 * A stored line's fields (see storedEventSchema). A JSON null reads as missing: `ip` is null when
 * the IP mode keeps none, so it is checked as optional.
 */
const FIELDS: readonly { name: string; kind: Kind; required: boolean }[] = [
  { name: "event_id", kind: "string", required: true },
  { name: "created_at", kind: "timestamp", required: true },
  { name: "client_timestamp", kind: "timestamp", required: false },
  { name: "ip", kind: "string", required: false },
  { name: "country", kind: "string", required: false },
  { name: "hwid", kind: "string", required: true },
  { name: "event_name", kind: "string", required: true },
  { name: "app_version", kind: "string", required: true },
  { name: "client_type", kind: "string", required: true },
  { name: "metadata", kind: "object", required: true },
  { name: "schema_violations", kind: "array", required: false },
  { name: "redactions", kind: "integer", required: false },
];

export interface EventQuery {
  dataDir: string;
  /** The folder under dataDir that holds the tree; "telemetry" unless given, "" for dataDir itself. */
  prefix?: string;
  sql: string;
}

export interface QueryResult {
  columns: string[];
  /** JSON-safe values: bigints as numbers when safe (else strings), timestamps as ISO strings, JSON parsed. */
  rows: Record<string, unknown>[];
  /** Lines the `events` view leaves out: the file (relative to dataDir), the line (from 1), and what is wrong. */
  malformed: { path: string; line: number; message: string }[];
}

/** A statement DuckDB refused, or a data folder with nothing to query: the message says which. */
export class QueryError extends Error {
  override name = "QueryError";
}

/**
 * Runs `sql` against a view `events` of every NDJSON line under `<dataDir>/<prefix>/`, typed
 * (see FIELDS, plus `day`, the UTC date of created_at, and `path`, the file's). One pass over the
 * files finds those holding a malformed line; only those are then read line by line, to report
 * each such line and keep it out of the view. Every other file is read by DuckDB's JSON reader.
 */
export async function queryEvents({ dataDir, prefix = DEFAULT_PREFIX, sql }: EventQuery): Promise<QueryResult> {
  const root = resolve(dataDir).replaceAll("\\", "/");
  const tree = [root, prefix].filter(Boolean).join("/");
  await checkFolder(dataDir, tree);
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const glob = quote(`${tree}/${NDJSON_GLOB}`);
    const found = await connection.runAndReadAll(`SELECT count(*) FROM glob(${glob})`);
    if (Number(found.getRows()[0]![0]) === 0) throw new QueryError(`${dataDir} holds no NDJSON files under ${tree}`);

    const suspect = await connection.runAndReadAll(
      `SELECT DISTINCT filename FROM ${readJson(glob, "JSON", true)} WHERE ${wrongField((name) => name).join(" OR ")}`,
    );
    const suspects = suspect.getRows().map(([filename]) => String(filename));
    const malformed = suspects.length ? await findMalformed(connection, suspects, root) : [];
    if (suspects.length) await connection.run(SUSPECT_EVENTS);
    await connection.run(eventsView(glob, suspects, root));

    const result = await connection.runAndReadAll(sql).catch((error: unknown) => {
      throw new QueryError(oneLine(error instanceof Error ? error.message : String(error)), { cause: error });
    });
    // The column's own type, not its vector's, names JSON (an alias of VARCHAR).
    const columns = result.deduplicatedColumnNames();
    const types = result.columnTypes();
    const rows = result
      .getRows()
      .map((row): Record<string, unknown> =>
        Object.fromEntries(
          row.map((value, i): [string, unknown] => [columns[i]!, toJsonSafe(value, types[i]!, toJsonSafe)]),
        ),
      );
    return { columns, rows, malformed };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function checkFolder(dataDir: string, tree: string): Promise<void> {
  const isFolder = async (path: string) => (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
  if (!(await isFolder(dataDir))) throw new QueryError(`No data folder at ${dataDir}`);
  if (!(await isFolder(tree))) throw new QueryError(`${dataDir} holds no NDJSON files: there is no ${tree}`);
}

/** DuckDB's `LINE n: <the query's line>` under its message, and the caret under it: the shown line may be cut (`...`). */
const QUERY_LINE = /^LINE (\d+): (\.\.\.)?/;

/**
 * DuckDB's message on one line, as the CLI prints every failure: its lines joined, and the query
 * line and caret it adds below as a position (`(line 1, column 8)`; no column where it cut the line).
 */
function oneLine(message: string): string {
  const lines = message.split("\n");
  const at = lines.findIndex((line) => QUERY_LINE.test(line));
  const text = (at < 0 ? lines : lines.slice(0, at)).filter((line) => line.trim() !== "").join(" ");
  if (at < 0) return text;
  const [prefix, row, cut] = QUERY_LINE.exec(lines[at]!)!;
  const caret = lines[at + 1]?.indexOf("^") ?? -1;
  const column = cut || caret < prefix.length ? "" : `, column ${caret - prefix.length + 1}`;
  return `${text} (line ${row}${column})`;
}

/**
 * Reports each malformed line of the suspect files, and keeps them in `malformed_lines` for the
 * view to leave out. The checks are those that picked the files, on the same JSON values.
 */
async function findMalformed(connection: DuckDBConnection, files: readonly string[], root: string) {
  const notUtf8 = await connection.runAndReadAll(
    `SELECT filename FROM read_blob(${list(files)}) WHERE try(decode(content)) IS NULL`,
  );
  await connection.run(
    `CREATE TEMP VIEW suspect_lines AS ${linesOf(files, new Set(notUtf8.getRows().map(([file]) => String(file))))}`,
  );
  const wrong = wrongField((name) => name);
  const messages = FIELDS.map(({ name, kind, required }, i) => {
    const message = `${name} is ${required ? "missing or " : ""}not ${KINDS[kind].label}`;
    return `CASE WHEN ${wrong[i]} THEN ${quote(message)} END`;
  });
  const fieldsAsJson = struct(FIELDS.map(({ name }) => [name, "JSON"]));
  // unnest spreads the parsed fields into columns, so that each line is parsed once, not once a check.
  await connection.run(`
    CREATE TEMP TABLE malformed_lines AS
    SELECT filename, line_number, coalesce(unreadable, concat_ws('; ', ${messages.join(", ")})) AS message
    FROM (
      SELECT filename, line_number, unreadable,
        unnest(CASE WHEN unreadable IS NULL THEN from_json(line, ${quote(fieldsAsJson)}) END)
      FROM (
        SELECT *, CASE
          WHEN line IS NULL THEN 'not valid UTF-8'
          WHEN NOT json_valid(line) THEN 'not valid JSON'
          WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object'
        END AS unreadable
        FROM suspect_lines
      )
    )
    WHERE unreadable IS NOT NULL OR ${wrong.join(" OR ")}`);
  const rows = await connection.runAndReadAll(
    `SELECT ${relativePath(root)} AS path, line_number, message FROM malformed_lines ORDER BY path, line_number`,
  );
  return rows
    .getRows()
    .map(([path, line, message]) => ({ path: String(path), line: Number(line), message: String(message) }));
}

/**
 * The view: the JSON reader over the files found clean, and the suspect files' well-formed lines.
 * The clean files are read without ignore_errors: one that changed since the pass fails the query
 * rather than answering from lines nobody checked.
 */
function eventsView(glob: string, suspects: readonly string[], root: string): string {
  const columns = [
    ...FIELDS.flatMap(({ name, kind }) =>
      kind !== "timestamp"
        ? [name]
        : [
            `${name}::TIMESTAMPTZ::TIMESTAMP AS ${name}`,
            ...(name === "created_at" ? ["created_at::TIMESTAMPTZ::TIMESTAMP::DATE AS day"] : []),
          ],
    ),
    `${relativePath(root)} AS path`,
  ].join(", ");
  const clean = `SELECT ${columns} FROM ${readJson(glob, "typed", false)}`;
  if (!suspects.length) return `CREATE VIEW events AS ${clean}`;
  const typed = struct(FIELDS.map(({ name, kind }) => [name, KINDS[kind].read]));
  return `CREATE VIEW events AS
    ${clean} WHERE filename NOT IN (${suspects.map(quote).join(", ")})
    UNION ALL
    SELECT ${columns} FROM (
      SELECT filename, unnest(from_json(line, ${quote(typed)}))
      FROM suspect_events
    )`;
}

/**
 * The suspect files' well-formed lines, set apart before any query: in a view, the optimizer may
 * push a query's filter under the anti join and parse a malformed line before it is left out.
 */
const SUSPECT_EVENTS = `CREATE TEMP TABLE suspect_events AS
  SELECT filename, line FROM suspect_lines ANTI JOIN malformed_lines USING (filename, line_number)`;

/** read_json with the fields as declared, never sniffed: as JSON text to check them, or as their types to read them. */
function readJson(glob: string, as: "JSON" | "typed", ignoreErrors: boolean): string {
  const columns = FIELDS.map(({ name, kind }) => `${name}: '${as === "JSON" ? "JSON" : KINDS[kind].read}'`);
  return `read_json(${glob}, format = 'newline_delimited', columns = {${columns.join(", ")}}, filename = true, ignore_errors = ${ignoreErrors})`;
}

/** For each field, whether its value (a JSON column, or null) is missing when required or not of its kind. */
function wrongField(column: (name: string) => string): string[] {
  return FIELDS.map(({ name, kind, required }) => {
    const x = column(name);
    return required ? `(${x} IS NULL OR ${KINDS[kind].wrong(x)})` : `(${x} IS NOT NULL AND (${KINDS[kind].wrong(x)}))`;
  });
}

/**
 * Each non-blank line of the files, numbered from 1 as an editor numbers it. A file that is not
 * UTF-8 throughout is split as bytes (DuckDB's escaped text of them), each line then decoded on its
 * own: null where it cannot be.
 */
function linesOf(files: readonly string[], notUtf8: ReadonlySet<string>): string {
  const numbered = (content: string) =>
    `SELECT filename, unnest(lines) AS line, generate_subscripts(lines, 1) AS line_number
     FROM (SELECT filename, ${content} AS lines`;
  const text = files.filter((file) => !notUtf8.has(file));
  const bytes = files.filter((file) => notUtf8.has(file));
  const sources = [
    ...(text.length ? [`${numbered("string_split(content, chr(10))")} FROM read_text(${list(text)}))`] : []),
    ...(bytes.length
      ? [
          `SELECT filename, try(decode(line::BLOB)) AS line, line_number FROM (
             ${numbered(`string_split(content::VARCHAR, '\\x0A')`)} FROM read_blob(${list(bytes)})))`,
        ]
      : []),
  ];
  return `SELECT * FROM (${sources.join(" UNION ALL ")}) WHERE line IS NULL OR NOT ${BLANK}`;
}

/** The file's path after `root/`; DuckDB measures root, so that it counts characters as it slices them. */
function relativePath(root: string): string {
  return `replace(filename[length(${quote(root)}) + 2:], '\\', '/')`;
}

function struct(fields: readonly string[][]): string {
  return `{${fields.map(([name, type]) => `"${name}": "${type}"`).join(", ")}}`;
}

function list(texts: readonly string[]): string {
  return `[${texts.map(quote).join(", ")}]`;
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
