import { Option, type Command } from "commander";
import { reportMalformed } from "../malformed.ts";
import { loadCliConfig } from "../../lib/config.ts";
import { dataDir, dataOption } from "../options.ts";

export function registerSql(program: Command): Command {
  return program
    .command("sql")
    .description("run a DuckDB query over the files: a view `events` holds every stored event, with typed columns")
    .argument("<query>", 'e.g. "SELECT day, count(*) FROM events GROUP BY day ORDER BY day"')
    .addOption(dataOption())
    .addOption(new Option("--format <format>", "output format").choices(["table", "json", "csv"]).default("table"))
    .action(async (sql: string, options: { data?: string; format: "table" | "json" | "csv" }) => {
      // DuckDB loads only for this command.
      const [{ queryEvents }, { formatRows }] = await Promise.all([
        import("../sql/query-events.ts"),
        import("../../lib/present/format-rows.ts"),
      ]);
      const config = loadCliConfig();
      const result = await queryEvents({ dataDir: dataDir(config, options.data), prefix: config.pathPrefix, sql });
      process.stdout.write(formatRows(result, options.format));
      reportMalformed(result.malformed);
    });
}
