import { z } from "zod";

/** What is wrong with a value, and where: the one shape of a problem in answers, stored lines and log lines. */
export const issueSchema = z.object({ path: z.string(), message: z.string() });

export type Issue = z.output<typeof issueSchema>;

/** What an issue with no path names: the whole value (for an event, the request body). */
const ROOT = "body";

/** Issues as zod or checkShape gives them, each path joined with dots under `prefix`. */
export function issuesOf(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix: readonly PropertyKey[] = [],
): Issue[] {
  return issues.map(({ path, message }) => {
    const full = [...prefix, ...path];
    return { path: full.length > 0 ? full.map(String).join(".") : ROOT, message };
  });
}

/** Issues in one line of text, for an error message: `path message; path message`. */
export function describeIssues(issues: readonly Issue[]): string {
  return issues.map(({ path, message }) => `${path} ${message}`).join("; ");
}
