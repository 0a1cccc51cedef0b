/** The checks of a PUT body that GitHub makes before it looks at the repository, with its validator's messages. */
import type { Person } from "./git-objects.ts";

/** The message GitHub gives for the first problem of a PUT body, or undefined when it is valid. */
export function putValidationError(body: Record<string, unknown>): string | undefined {
  const missing = ["content", "message"].filter((key) => body[key] === undefined);
  if (missing.length === 1) return `Invalid request.\n\n"${missing[0]}" wasn't supplied.`;
  if (missing.length > 1) return `Invalid request.\n\n${missing.map((key) => `"${key}"`).join(", ")} weren't supplied.`;
  for (const key of ["content", "message", "sha", "branch"]) {
    if (key in body && typeof body[key] !== "string")
      return `Invalid request.\n\nFor 'properties/${key}', ${rubyInspect(body[key])} is not a string.`;
  }
  for (const key of ["committer", "author"]) {
    const person = body[key];
    if (person === undefined) continue;
    if (!isRecord(person))
      return `Invalid request.\n\nFor 'properties/${key}', ${rubyInspect(person)} is not an object.`;
    const absent = ["name", "email"].find((field) => typeof person[field] !== "string");
    if (absent) return `Invalid request.\n\n"${absent}" wasn't supplied.`;
  }
  return undefined;
}

/** How GitHub's (Ruby) validator prints a JSON value in its messages. */
export function rubyInspect(value: unknown): string {
  return value === null ? "nil" : JSON.stringify(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isPerson(value: unknown): value is Person {
  return isRecord(value) && typeof value.name === "string" && typeof value.email === "string";
}
