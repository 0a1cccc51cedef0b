// DuckDB alone, as a maintainer would run it: the report's totals (events, and distinct installs, by day and event) over the NDJSON files.
import { DuckDBInstance } from "@duckdb/node-api";

const [dir] = process.argv.slice(2);
const instance = await DuckDBInstance.create(":memory:");
const connection = await instance.connect();
const files = `read_json('${dir}/telemetry/**/*.ndjson', format = 'newline_delimited', columns = {created_at: 'TIMESTAMP', hwid: 'VARCHAR', event_name: 'VARCHAR'})`;
const byEvent = await connection.runAndReadAll(
  `SELECT created_at::DATE AS day, event_name, count(*) AS events, count(DISTINCT hwid) AS installs FROM ${files} GROUP BY ALL`,
);
const total = await connection.runAndReadAll(
  `SELECT count(*) AS events, count(DISTINCT hwid) AS installs FROM ${files}`,
);
const [events, installs] = total.getRows()[0]!.map(Number);
process.stdout.write(`${JSON.stringify({ groups: byEvent.getRows().length, events, installs })}\n`);
