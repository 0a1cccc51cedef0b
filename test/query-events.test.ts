import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toStoredEvent } from "../lib/events/stored-event.ts";
import { formatRows } from "../lib/present/format-rows.ts";
import { QueryError, queryEvents, type QueryResult } from "../cli/sql/query-events.ts";

/** A stored line, as the service writes it. */
function line(hwid: string, createdAt: string, metadata: Record<string, unknown> = {}, extra: object = {}): string {
  const event = toStoredEvent(
    { hwid, event_name: "app_started", app_version: "1.4.0", timestamp: createdAt, metadata },
    { eventId: crypto.randomUUID(), createdAt: new Date(createdAt), ip: null },
  );
  return JSON.stringify({ ...event, ...extra });
}

const GOOD_22 = line("h1", "2026-11-22T08:00:00.000Z", { x: "b" });
/** Both layouts: the older file per day (20), a folder per day with parts (21, 22). */
const FILES: Record<string, string[]> = {
  "telemetry/2026/11/20.ndjson": [
    line("h1", "2026-11-20T00:00:00.000Z", { x: "a" }),
    line("h1", "2026-11-20T12:00:00.000Z", { x: "a" }),
    line("h2", "2026-11-20T23:59:59.999Z", { x: "b" }, { redactions: 2 }),
  ],
  "telemetry/2026/11/21/0001.ndjson": [line("h1", "2026-11-21T01:00:00.000Z"), line("h2", "2026-11-21T02:00:00.000Z")],
  "telemetry/2026/11/21/0002.ndjson": [
    line("h3", "2026-11-21T03:00:00.000Z", {}, { ip: "203.0.113.0", country: "SE" }),
    line("h3", "2026-11-21T04:00:00.000Z", {}, { schema_violations: [{ path: ["n"], message: "Expected number" }] }),
  ],
  "telemetry/2026/11/22/0001.ndjson": [
    GOOD_22,
    "not json",
    "[1, 2]",
    "",
    line("h2", "2026-11-22T09:00:00.000Z", { x: 1 }, { hwid: undefined }),
    line("h2", "2026-11-22T10:00:00.000Z", {}, { created_at: "yesterday", event_id: 7 }),
    line("h2", "2026-11-22T11:00:00.000Z", {}, { metadata: [], redactions: "two" }),
    line("h4", "2026-11-22T12:00:00.000Z", { x: "c" }),
  ],
};
const BAD_UTF8 = Buffer.concat([
  Buffer.from(`${line("h5", "2026-11-23T00:00:00.000Z")}\n{"event_id": "`),
  Buffer.from([0xff, 0xfe]),
  Buffer.from(`"}\n${line("h6", "2026-11-23T01:00:00.000Z")}\n`),
]);

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "query-events-"));
  const write = async (path: string, content: string | Buffer) => {
    await mkdir(dirname(join(dataDir, path)), { recursive: true });
    await writeFile(join(dataDir, path), content);
  };
  for (const [path, lines] of Object.entries(FILES)) await write(path, `${lines.join("\n")}\n`);
  await write("telemetry/2026/11/23/0001.ndjson", BAD_UTF8);
  await write("telemetry/README.md", "not NDJSON");
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const query = (sql: string) => queryEvents({ dataDir, sql });

describe("the events view", () => {
  it("counts events and installs by UTC day across both layouts and every part", async () => {
    const result = await query(
      "SELECT day, count(*) AS events, count(DISTINCT hwid) AS installs FROM events GROUP BY day ORDER BY day",
    );
    expect(result.columns).toEqual(["day", "events", "installs"]);
    expect(result.rows).toEqual([
      { day: "2026-11-20", events: 3, installs: 2 },
      { day: "2026-11-21", events: 4, installs: 3 },
      { day: "2026-11-22", events: 2, installs: 2 },
      { day: "2026-11-23", events: 2, installs: 2 },
    ]);
  });

  it("has typed columns, whichever fields the lines happen to hold", async () => {
    const { rows } = await query("SELECT column_name, column_type FROM (DESCRIBE events)");
    expect(Object.fromEntries(rows.map((row) => [row.column_name, row.column_type]))).toEqual({
      event_id: "VARCHAR",
      created_at: "TIMESTAMP",
      day: "DATE",
      client_timestamp: "TIMESTAMP",
      ip: "VARCHAR",
      country: "VARCHAR",
      hwid: "VARCHAR",
      event_name: "VARCHAR",
      app_version: "VARCHAR",
      client_type: "VARCHAR",
      metadata: "JSON",
      schema_violations: "JSON",
      redactions: "INTEGER",
      path: "VARCHAR",
    });
  });

  it("has the caller's country where Netlify placed it, NULL on lines without one", async () => {
    const { rows } = await query(
      "SELECT coalesce(country, 'unknown') AS country, count(*) AS events FROM events GROUP BY 1 ORDER BY 1",
    );
    expect(rows).toEqual([
      { country: "SE", events: 1 },
      { country: "unknown", events: 10 },
    ]);
  });

  it("gives JSON-safe values: ISO timestamps, parsed JSON, the file's path from the data folder", async () => {
    const { rows } = await query(
      "SELECT created_at, client_timestamp, ip, metadata, schema_violations, redactions, path FROM events ORDER BY created_at",
    );
    expect(rows[2]).toEqual({
      created_at: "2026-11-20T23:59:59.999Z",
      client_timestamp: "2026-11-20T23:59:59.999Z",
      ip: null,
      metadata: { x: "b" },
      schema_violations: null,
      redactions: 2,
      path: "telemetry/2026/11/20.ndjson",
    });
    expect(rows[3]).toMatchObject({ ip: null, path: "telemetry/2026/11/21/0001.ndjson" });
    expect(rows[5]).toMatchObject({ ip: "203.0.113.0", path: "telemetry/2026/11/21/0002.ndjson" });
    expect(rows[6]).toMatchObject({ schema_violations: [{ path: ["n"], message: "Expected number" }] });
  });

  it("reads metadata with DuckDB's JSON operators", async () => {
    const { rows } = await query(
      "SELECT metadata->>'x' AS x, count(*) AS n FROM events WHERE metadata->>'x' IS NOT NULL GROUP BY x ORDER BY x",
    );
    expect(rows).toEqual([
      { x: "a", n: 2 },
      { x: "b", n: 2 },
      { x: "c", n: 1 },
    ]);
  });

  it("converts DuckDB's other values to JSON-safe ones", async () => {
    const { rows } = await query(
      "SELECT 9007199254740993::BIGINT AS big, 42::HUGEINT AS huge, 1.5 AS decimal, DATE '2026-11-22' AS date, TIMESTAMPTZ '2026-11-22 10:00:00+02' AS tz, ['a'] AS list",
    );
    expect(rows).toEqual([
      {
        big: "9007199254740993",
        huge: 42,
        decimal: 1.5,
        date: "2026-11-22",
        tz: "2026-11-22T08:00:00.000Z",
        list: ["a"],
      },
    ]);
  });
});

describe("malformed lines", () => {
  it("are reported by file and line, and left out of the view", async () => {
    const { rows, malformed } = await query("SELECT hwid, path FROM events WHERE day >= '2026-11-22' ORDER BY hwid");
    expect(rows).toEqual([
      { hwid: "h1", path: "telemetry/2026/11/22/0001.ndjson" },
      { hwid: "h4", path: "telemetry/2026/11/22/0001.ndjson" },
      { hwid: "h5", path: "telemetry/2026/11/23/0001.ndjson" },
      { hwid: "h6", path: "telemetry/2026/11/23/0001.ndjson" },
    ]);
    const part22 = "telemetry/2026/11/22/0001.ndjson";
    expect(malformed).toEqual([
      { path: part22, line: 2, message: "not valid JSON" },
      { path: part22, line: 3, message: "not a JSON object" },
      // Line 4 is blank: not malformed, and still counted.
      { path: part22, line: 5, message: "hwid is missing or not a string" },
      {
        path: part22,
        line: 6,
        message: "event_id is missing or not a string; created_at is missing or not a timestamp",
      },
      { path: part22, line: 7, message: "metadata is missing or not an object; redactions is not an integer" },
      { path: "telemetry/2026/11/23/0001.ndjson", line: 2, message: "not valid UTF-8" },
    ]);
  });
});

describe("errors", () => {
  it("passes on DuckDB's message for a bad statement", async () => {
    const error = await query("SELEC day FROM events").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).message).toMatch(/syntax error at or near "SELEC"/);
    await expect(query("SELECT nope FROM events")).rejects.toThrow(/nope/);
  });

  it("names a data folder that does not exist", async () => {
    const missing = join(dataDir, "missing");
    await expect(queryEvents({ dataDir: missing, sql: "SELECT 1" })).rejects.toThrow(
      new QueryError(`No data folder at ${missing}`),
    );
  });

  it("says when a data folder holds no NDJSON files", async () => {
    await expect(queryEvents({ dataDir, prefix: "nothing", sql: "SELECT 1" })).rejects.toThrow(QueryError);
    await expect(
      queryEvents({ dataDir: join(dataDir, "telemetry/2026/11/22"), prefix: "", sql: "SELECT 1" }),
    ).resolves.toMatchObject({ rows: [{ 1: 1 }] });
    await mkdir(join(dataDir, "empty/telemetry"), { recursive: true });
    await expect(queryEvents({ dataDir: join(dataDir, "empty"), sql: "SELECT 1" })).rejects.toThrow(
      /holds no NDJSON files/,
    );
  });
});

describe("rows as text", () => {
  const result: QueryResult = {
    columns: ["name", "n", "meta"],
    rows: [
      { name: "plain", n: 3, meta: { a: [1] } },
      { name: 'with "quotes", a comma\nand a newline', n: 12345, meta: null },
    ],
    malformed: [],
  };

  it("aligns a table under its header, numbers to the right", () => {
    expect(formatRows(result, "table")).toBe(
      [
        "name                                       n  meta",
        "-------------------------------------  -----  ---------",
        'plain                                      3  {"a":[1]}',
        'with "quotes", a comma\\nand a newline  12345  NULL',
        "",
      ].join("\n"),
    );
  });

  it("writes one JSON array", () => {
    expect(JSON.parse(formatRows(result, "json"))).toEqual(result.rows);
  });

  it("writes RFC 4180 csv", () => {
    expect(formatRows(result, "csv")).toBe(
      'name,n,meta\r\nplain,3,"{""a"":[1]}"\r\n"with ""quotes"", a comma\nand a newline",12345,\r\n',
    );
  });
});
