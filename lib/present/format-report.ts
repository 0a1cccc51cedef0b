import { cohortSections } from "./cohorts/cohort-sections.ts";
import { formatRows } from "./format-rows.ts";
import type { PeriodReport } from "./period-report.ts";

export const REPORT_FORMATS = ["table", "json", "csv", "md"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

type Row = Record<string, unknown>;

/** Text a table cannot hold: shown under it (indented; in Markdown, folded), kept as a field in csv. */
const DETAIL_FIELDS = new Set(["traceback"]);
const DETAIL_INDENT = "    ";

/** A table of the report: its rows with every field they carry, and what names a row in csv and under a table. */
interface Section {
  title: string;
  rows: Row[];
  /** The fields that name a row (the first field unless given). */
  keys?: string[];
}

/** The report's tables; every field of the JSON is in one of them. */
function sectionsOf(report: PeriodReport): Section[] {
  const grain = report.grain;
  return [
    { title: "totals", rows: [report.totals], keys: [] },
    // A row is the day, week or month it starts (see periodReport), named so.
    { title: `${grain}s`, rows: report.days.map(({ day, ...figures }) => ({ [grain]: day, ...figures })) },
    { title: "events", rows: report.events },
    { title: "versions", rows: report.versions },
    // Each family, then its versions: the table is as long as the JSON's nesting is deep.
    {
      title: "os",
      rows: report.os.flatMap(({ os, installs, versions }) => [
        { os, version: "all", installs },
        ...versions.map((v) => ({ os, version: v.version ?? "unknown", installs: v.installs })),
      ]),
      keys: ["os", "version"],
    },
    { title: "client_types", rows: report.client_types },
    { title: "countries", rows: report.countries },
    { title: "errors", rows: report.errors },
    { title: "models", rows: report.models, keys: ["model_name", "model_source"] },
    { title: "db_providers", rows: report.db_providers },
    { title: "performance", rows: report.performance, keys: ["event_name", "field"] },
    { title: "ingest", rows: [report.ingest], keys: [] },
    ...cohortSections(report),
  ];
}

/**
 * A report as `telemetry report` prints it: `json` is the whole report (the contract scripts rely
 * on); `table` and `md` show each section as a table, with what a cell cannot hold (a traceback)
 * under it; `csv` is one long table (section, key, field, value), so that every section fits one
 * set of columns. Every format carries every field.
 */
export function formatReport(report: PeriodReport, format: ReportFormat): string {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  const sections = sectionsOf(report);
  if (format === "csv") {
    const rows = sections.flatMap((section) =>
      section.rows.flatMap((row) => {
        const keys = keysOf(section, row);
        const key = keys.map((field) => text(row[field])).join(" ");
        return Object.keys(row)
          .filter((field) => !keys.includes(field))
          .map((field) => ({ section: section.title, key, field, value: text(row[field]) }));
      }),
    );
    return formatRows({ columns: ["section", "key", "field", "value"], rows }, "csv");
  }
  const heading = `${format === "md" ? "# " : ""}Telemetry ${report.from} to ${report.to}`;
  const blocks = sections.map((section) => {
    const columns = Object.keys(section.rows[0] ?? {}).filter((field) => !DETAIL_FIELDS.has(field));
    const rows = section.rows.map((row) => Object.fromEntries(columns.map((column) => [column, row[column]])));
    const details = section.rows.flatMap((row) =>
      [...DETAIL_FIELDS].flatMap((field) =>
        typeof row[field] === "string"
          ? [
              {
                label: `${keysOf(section, row)
                  .map((key) => text(row[key]))
                  .join(" ")} ${field}`,
                text: row[field],
              },
            ]
          : [],
      ),
    );
    if (format === "md")
      return [`## ${section.title}`, "", ...markdownTable(columns, rows), ...details.map(markdownDetails)].join("\n");
    const body = rows.length === 0 ? "(none)\n" : formatRows({ columns, rows: rows.map(texts) }, "table");
    const under = details.map(
      ({ label, text: lines }) =>
        `\n  ${label}:\n${lines
          .split("\n")
          .map((line) => `${DETAIL_INDENT}${line}\n`)
          .join("")}`,
    );
    return `${section.title}\n${body}${under.join("")}`;
  });
  // A table block ends with its own newline; a Markdown one does not.
  return format === "md" ? `${[heading, ...blocks].join("\n\n")}\n` : `${[`${heading}\n`, ...blocks].join("\n")}`;
}

function keysOf(section: Section, row: Row): string[] {
  return section.keys ?? Object.keys(row).slice(0, 1);
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

/** A folded block under the table; its fence is longer than any run of backticks in the text. */
function markdownDetails({ label, text: body }: { label: string; text: string }): string {
  const fence = "`".repeat(Math.max(3, ...[...body.matchAll(/`+/g)].map(([run]) => run.length + 1)));
  const summary = label.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `\n<details><summary>${summary}</summary>\n\n${fence}text\n${body}\n${fence}\n\n</details>`;
}

/** Cells as text; numbers stay numbers, so that the table aligns them on their last digit. */
function texts(row: Row): Row {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [key, typeof value === "number" ? value : text(value)]),
  );
}

/** A value as one cell: a list joined by spaces, counts by key as `key=count`. */
function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(text).join(" ");
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (typeof value === "object")
    return Object.entries(value)
      .map(([key, inner]) => `${key}=${text(inner)}`)
      .join(" ");
  return JSON.stringify(value) ?? "";
}
