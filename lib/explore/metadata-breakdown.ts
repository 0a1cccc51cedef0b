import { z } from "zod";

/** Values a breakdown lists, the most frequent first. */
const TOP_VALUES = 20;

const count = z.number().int().nonnegative();

export const metadataBreakdownSchema = z.object({
  keys: z
    .array(z.object({ key: z.string(), lines: count }))
    .describe("The metadata keys the lines carry, with how many lines carry each, the most common first"),
  key: z.string().nullable().describe("The key broken down: the one asked for, else the most common"),
  values: z
    .array(z.object({ value: z.string(), lines: count }))
    .describe("Its top values (objects and arrays as their JSON), with how many lines hold each"),
  lines: count.describe("Lines read"),
});

export type MetadataBreakdown = z.output<typeof metadataBreakdownSchema>;

/** An event's lines broken down by one metadata key: which keys its events carry, and a key's top values. */
export function metadataBreakdown(lines: readonly string[], key: string | undefined): MetadataBreakdown {
  const metadata = lines.map(
    (line) => ((JSON.parse(line) as { metadata?: unknown }).metadata ?? {}) as Record<string, unknown>,
  );
  const keys = ranked(metadata.flatMap((m) => Object.keys(m)));
  const picked = key ?? keys[0]?.[0] ?? null;
  const values =
    picked === null
      ? []
      : ranked(
          metadata.flatMap((m) =>
            picked in m ? [typeof m[picked] === "string" ? m[picked] : JSON.stringify(m[picked])] : [],
          ),
        );
  return {
    keys: keys.map(([name, count]) => ({ key: name, lines: count })),
    key: picked,
    values: values.slice(0, TOP_VALUES).map(([value, count]) => ({ value, lines: count })),
    lines: lines.length,
  };
}

/** Each distinct item with its count, the most frequent first (ties in text order). */
function ranked(items: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}
