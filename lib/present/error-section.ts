import type { PeriodReport } from "./period-report.ts";
import { tableRow, wholeCount } from "./table-row.ts";

const TOP_ERRORS = 15;
const FENCE = "```";
/** A summary names the group; its message is in the table, and here only to tell groups apart. */
const SUMMARY_CHARS = 120;
/** What HTML or Markdown would read as markup in a <summary>, as character references. */
const SUMMARY_MARKUP = /[&<>"'`*_[\]\\|]/g;

/**
 * The README's error groups: a table of the most frequent (numbered as the chart's legend numbers
 * them), then each group's sample traceback, scrubbed as stored, folded in a <details> block.
 */
export function errorSection(current: PeriodReport, previous: PeriodReport): string[] {
  const known = new Set(previous.errors.map((e) => e.fingerprint));
  const top = current.errors.slice(0, TOP_ERRORS);
  if (top.length === 0) return ["## Error groups", "", "No errors in the last 30 days."];
  return [
    "## Error groups",
    "",
    "Grouped by the client's `error_hash`, else by exception type, innermost in-app frame and message with numbers, paths and quoted values masked. *new*: not seen in the 30 days before. *first version*: the app version of the group's earliest occurrence. The numbers are the error chart's.",
    "",
    "| # | | type | message | count | installs | versions | first version | first seen | last seen |",
    "|---:|---|---|---|---:|---:|---|---|---|---|",
    ...top.map((e, i) =>
      tableRow([
        String(i + 1),
        known.has(e.fingerprint) ? "" : "new",
        e.exception_type,
        e.message,
        wholeCount(e.count),
        wholeCount(e.installs),
        e.versions.join(", "),
        e.first_version ?? "—",
        e.first_seen.slice(0, 16).replace("T", " "),
        e.last_seen.slice(0, 16).replace("T", " "),
      ]),
    ),
    "",
    "Each group's traceback, from its earliest sample and scrubbed as stored (groups whose events sent none have none):",
    "",
    ...top.flatMap((e, i) => (e.traceback ? traceback(i + 1, e) : [])),
  ];
}

/**
 * A group's traceback, folded. GitHub reads Markdown inside <details> only after a blank line, and a
 * fence longer than any run of backticks in the text is one that the text cannot close.
 */
function traceback(number: number, error: PeriodReport["errors"][number]): string[] {
  const text = error.traceback!.replace(/\r\n?/g, "\n").trimEnd();
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = longestRun < FENCE.length ? FENCE : "`".repeat(longestRun + 1);
  const line = `${number}. ${error.exception_type}: ${error.message}`.replace(/\s+/g, " ");
  const summary = line.length > SUMMARY_CHARS ? `${line.slice(0, SUMMARY_CHARS - 1)}…` : line;
  return [
    `<details><summary>${escapeSummary(summary)} ${error.first_version === null ? "" : ` (first in ${escapeSummary(error.first_version)})`}</summary>`,
    "",
    `${fence}text`,
    text,
    fence,
    "",
    "</details>",
    "",
  ];
}

function escapeSummary(text: string): string {
  return text.replace(SUMMARY_MARKUP, (c) => `&#${c.codePointAt(0)};`);
}
