import { DuckDBInstance } from "@duckdb/node-api";
import type { LineQuery, LineSource } from "../../lib/explore/explorer.ts";
import type { PeriodFile, PeriodFiles } from "./period-files.ts";
import type { ReadProgress } from "./read-progress.ts";

/**
 * A line an error may be in: error event names, or an `exception_type`. A superset of what fingerprintError
 * calls an error, so that the figures' own code decides among fewer lines.
 */
const MAY_BE_ERROR = `(regexp_matches(json->>'event_name', '^(UncaughtException|QtError)$|(_failed|Error)$') OR (json->'metadata'->>'exception_type') IS NOT NULL)`;

/**
 * The raw lines of a period's files on disk, selected by DuckDB (read_ndjson_objects: each line's JSON as it
 * is) so that only the lines that pass the filters reach the tally. Each read is shown as in progress
 * with the bytes of its files.
 */
export function duckdbLines(filesOf: PeriodFiles, progress: ReadProgress): LineSource {
  const select = async (found: PeriodFile[], columns: string, where: string[]) => {
    if (found.length === 0) return [];
    const bytes = found.reduce((sum, file) => sum + file.size, 0);
    return progress.during(bytes, async () => {
      const instance = await DuckDBInstance.create(":memory:");
      const connection = await instance.connect();
      try {
        const source = `read_ndjson_objects([${found.map((f) => quote(f.path)).join(", ")}], filename = true, ignore_errors = true)`;
        const sql = `SELECT ${columns} FROM ${source} WHERE json IS NOT NULL${where.map((w) => ` AND ${w}`).join("")}`;
        return (await connection.runAndReadAll(sql)).getRows();
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    });
  };
  return {
    async osNames(from, to) {
      const rows = await select(await filesOf(from, to), "DISTINCT json->'metadata'->>'os'", [
        "(json->'metadata'->>'os') IS NOT NULL",
      ]);
      return rows.map(([os]) => String(os));
    },
    async lines(query: LineQuery) {
      if (query.osNames?.length === 0) return [];
      const found = await filesOf(query.from, query.to);
      const dayOf = new Map(found.map((f) => [f.path, f.day]));
      const rows = await select(found, "filename, json::VARCHAR", conditions(query));
      const byDay = new Map<string, string[]>();
      for (const [filename, line] of rows) {
        const day = dayOf.get(String(filename))!;
        byDay.set(day, [...(byDay.get(day) ?? []), String(line)]);
      }
      return [...byDay].sort(([a], [b]) => (a < b ? -1 : 1)).map(([day, lines]) => ({ day, lines }));
    },
  };
}

function conditions(query: LineQuery): string[] {
  const equal = (field: string, value: string | undefined) =>
    value === undefined ? [] : [`(json->>'${field}') = ${quote(value)}`];
  return [
    ...equal("app_version", query.version),
    ...equal("client_type", query.client_type),
    ...equal("event_name", query.event),
    ...(query.osNames ? [`(json->'metadata'->>'os') IN (${query.osNames.map(quote).join(", ")})`] : []),
    ...(query.errorsOnly ? [MAY_BE_ERROR] : []),
  ];
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
