import { daySources } from "../lib/storage/layout/day-sources.ts";
import type { RepositoryFiles } from "../lib/storage/repository-files.ts";

const YEAR = /^\d{4}$/;
const MONTH = /^\d{2}$/;

/** The first and last days with NDJSON files. */
export interface DataSpan {
  first: string;
  last: string;
}

/**
 * The first and last days that hold files under `prefix`, undefined when none does: looked for from
 * each end of the tree, a few listings (what matters on GitHub), not one a month.
 */
export async function dataSpan(
  files: RepositoryFiles,
  prefix: string,
  deadline: number,
): Promise<DataSpan | undefined> {
  const first = await edgeDay(files, prefix, deadline, "first");
  const last = first && (await edgeDay(files, prefix, deadline, "last"));
  return first && last ? { first, last } : undefined;
}

async function edgeDay(
  files: RepositoryFiles,
  prefix: string,
  deadline: number,
  edge: "first" | "last",
): Promise<string | undefined> {
  const inOrder = <T>(items: T[]) => (edge === "first" ? items : items.reverse());
  const folders = async (path: string, name: RegExp) =>
    inOrder(
      (await files.list(path, { deadline }))
        .filter((entry) => entry.type === "dir" && name.test(entry.name))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
  for (const year of await folders(prefix, YEAR)) {
    for (const month of await folders(year.path, MONTH)) {
      const days = daySources(`${year.name}-${month.name}`, await files.list(month.path, { deadline }));
      const [day] = inOrder([...days.keys()].sort());
      if (day) return day;
    }
  }
  return undefined;
}
