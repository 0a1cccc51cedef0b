import { formatRows } from "./format-rows.ts";
import type { PeriodReport } from "./period-report.ts";

export const REPORT_FORMATS = ["table", "json", "csv", "md"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

type Row = Record<string, unknown>;

/** The report's tables, each with the columns shown; the JSON format has every field. */
function sectionsOf(report: PeriodReport): [title: string, rows: Row[]][] {
  const pick = <T extends object>(rows: T[], keys: (keyof T)[]) =>
    rows.map((row) => Object.fromEntries(keys.map((key) => [key, row[key]])));
  return [
    ["totals", [report.totals]],
    ["days", report.days],
    ["events", report.events],
    ["versions", pick(report.versions, ["app_version", "installs", "launches", "sessions", "crash_free_sessions"])],
    ["os", pick(report.os, ["os", "installs"])],
    [
      "errors",
      pick(report.errors, [
        "fingerprint",
        "exception_type",
        "message",
        "count",
        "installs",
        "first_seen",
        "last_seen",
        "versions",
      ]),
    ],
    [
      "models",
      pick(report.models, [
        "model_name",
        "model_source",
        "embedding_dimension",
        "registrations",
        "installs",
        "load_success_rate",
        "inference_success_rate",
      ]),
    ],
    ["db_providers", report.db_providers],
    ["performance", report.performance],
    ["ingest", [report.ingest]],
  ];
}

/**
 * A report as `telemetry report` prints it: `json` is the whole report (the contract scripts rely
 * on); `table` and `md` show each section as a table; `csv` is one long table (section, key,
 * field, value), so that every section fits one set of columns.
 */
export function formatReport(report: PeriodReport, format: ReportFormat): string {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  const sections = sectionsOf(report);
  if (format === "csv") {
    const rows = sections.flatMap(([section, entries]) =>
      entries.flatMap((entry) => {
        const [keyField, ...fields] = Object.keys(entry);
        const single = entries.length === 1 && (section === "totals" || section === "ingest");
        const key = single ? "" : String(entry[keyField!]);
        return (single ? Object.keys(entry) : fields).map((field) => ({
          section,
          key,
          field,
          value: text(entry[field]),
        }));
      }),
    );
    return formatRows({ columns: ["section", "key", "field", "value"], rows }, "csv");
  }
  const heading = `${format === "md" ? "# " : ""}Telemetry ${report.from} to ${report.to}`;
  const blocks = sections.map(([title, rows]) => {
    const columns = Object.keys(rows[0] ?? {});
    if (format === "md") return [`## ${title}`, "", ...markdownTable(columns, rows)].join("\n");
    const body = rows.length === 0 ? "(none)\n" : formatRows({ columns, rows: rows.map(texts) }, "table");
    return `${title}\n${body}`;
  });
  // A table block ends with its own newline; a Markdown one does not.
  return format === "md" ? `${[heading, ...blocks].join("\n\n")}\n` : `${[`${heading}\n`, ...blocks].join("\n")}`;
}

function markdownTable(columns: string[], rows: Row[]): string[] {
  if (rows.length === 0) return ["(none)"];
  const cell = (value: unknown) =>
    text(value)
      .replace(/\s+/g, " ")
      .replace(/[\\|`*_<>[\]]/g, (c) => `\\${c}`);
  return [
    `| ${columns.join(" | ")} |`,
    `|${columns.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${columns.map((column) => cell(row[column])).join(" | ")} |`),
  ];
}

function texts(row: Row): Row {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, text(value)]));
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.join(" ");
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value) ?? "";
}
