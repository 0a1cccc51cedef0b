import { Option, type Command } from "commander";
import { reportMalformed } from "../malformed.ts";
import { dataOption, openData } from "../options.ts";

export function registerSql(program: Command): Command {
  return program
    .command("sql")
    .description("run a DuckDB query over the files: a view `events` holds every stored event, with typed columns")
    .argument("<query>", 'e.g. "SELECT day, count(*) FROM events GROUP BY day ORDER BY day"')
    .addOption(dataOption())
    .addOption(new Option("--format <format>", "output format").choices(["table", "json", "csv"]).default("table"))
    .action(async (sql: string, options: { data?: string; format: "table" | "json" | "csv" }, command: Command) => {
      // DuckDB loads only for this command.
      const [{ queryEvents }, { formatRows }] = await Promise.all([
        import("../sql/query-events.ts"),
        import("../../lib/present/format-rows.ts"),
      ]);
      const { config, dir } = await openData(command, options);
      const result = await queryEvents({ dataDir: dir!, prefix: config.pathPrefix, sql });
      process.stdout.write(formatRows(result, options.format));
      reportMalformed(result.malformed);
    });
}
