/** A cell holds this much of a client's text: the table is for scanning, the details hold the rest. */
const CELL_CHARS = 100;

/** A Markdown table's row, each cell made safe. */
export function tableRow(cells: string[]): string {
  return `| ${cells.map(tableCell).join(" | ")} |`;
}

/** Text from clients made safe in a table cell: one line, no markup of its own, cut short. */
export function tableCell(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  const short = line.length > CELL_CHARS ? `${line.slice(0, CELL_CHARS - 1)}…` : line;
  return short.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

/** A count as a person reads it: whole, with thousands separated. */
export function wholeCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}
