/**
 * The checks of Git Data API bodies that GitHub makes before it looks at the repository, worded in its
 * validator's style (as put-validation.ts has it for the contents API), except the refusal of a tree entry
 * with neither or both of `sha` and `content`, which GitHub words itself, as here.
 */
import { isPerson, isRecord, rubyInspect } from "./put-validation.ts";

const BLOB_ENCODINGS = ["utf-8", "base64"];
const TREE_MODES = ["100644", "100755", "040000", "160000", "120000"];
const TREE_TYPES = ["blob", "tree", "commit"];
const SHA_OR_CONTENT = "Must supply either tree.sha or tree.content. Request will be rejected if both are present.";

export function blobValidationError(body: Record<string, unknown>): string | undefined {
  return (
    missing(body, ["content"]) ??
    notA("string", body, ["content", "encoding"]) ??
    notOneOf(body, "encoding", BLOB_ENCODINGS)
  );
}

export function treeValidationError(body: Record<string, unknown>): string | undefined {
  const problem = missing(body, ["tree"]) ?? notA("string", body, ["base_tree"]);
  if (problem) return problem;
  if (!Array.isArray(body.tree))
    return `Invalid request.\n\nFor 'properties/tree', ${rubyInspect(body.tree)} is not an array.`;
  for (const item of body.tree as unknown[]) {
    if (!isRecord(item)) return `Invalid request.\n\nFor 'items', ${rubyInspect(item)} is not an object.`;
    const wrong =
      notA("string", item, ["path", "content"]) ??
      notOneOf(item, "mode", TREE_MODES) ??
      notOneOf(item, "type", TREE_TYPES) ??
      (item.sha !== undefined && item.sha !== null ? notA("string", item, ["sha"]) : undefined);
    if (wrong) return wrong;
    if ((item.sha === undefined) === (item.content === undefined)) return SHA_OR_CONTENT;
  }
  return undefined;
}

export function commitValidationError(body: Record<string, unknown>): string | undefined {
  const problem = missing(body, ["message", "tree"]) ?? notA("string", body, ["message", "tree"]);
  if (problem) return problem;
  if (body.parents !== undefined && (!Array.isArray(body.parents) || body.parents.some((p) => typeof p !== "string")))
    return `Invalid request.\n\nFor 'properties/parents', ${rubyInspect(body.parents)} is not an array of strings.`;
  for (const key of ["author", "committer"]) {
    if (body[key] !== undefined && !isPerson(body[key]))
      return `Invalid request.\n\nFor 'properties/${key}', ${rubyInspect(body[key])} is not a person.`;
  }
  return undefined;
}

export function refUpdateValidationError(body: Record<string, unknown>): string | undefined {
  const problem = missing(body, ["sha"]) ?? notA("string", body, ["sha"]);
  if (problem) return problem;
  if (body.force !== undefined && typeof body.force !== "boolean")
    return `Invalid request.\n\nFor 'properties/force', ${rubyInspect(body.force)} is not a boolean.`;
  return undefined;
}

export function refCreationValidationError(body: Record<string, unknown>): string | undefined {
  return missing(body, ["ref", "sha"]) ?? notA("string", body, ["ref", "sha"]);
}

function missing(body: Record<string, unknown>, keys: string[]): string | undefined {
  const absent = keys.filter((key) => body[key] === undefined);
  if (absent.length === 1) return `Invalid request.\n\n"${absent[0]}" wasn't supplied.`;
  if (absent.length > 1) return `Invalid request.\n\n${absent.map((key) => `"${key}"`).join(", ")} weren't supplied.`;
  return undefined;
}

function notA(type: "string", body: Record<string, unknown>, keys: string[]): string | undefined {
  const key = keys.find((name) => name in body && typeof body[name] !== type);
  return key && `Invalid request.\n\nFor 'properties/${key}', ${rubyInspect(body[key])} is not a ${type}.`;
}

function notOneOf(body: Record<string, unknown>, key: string, allowed: string[]): string | undefined {
  if (!(key in body) || allowed.includes(body[key] as string)) return undefined;
  const choices = allowed.map((choice) => `"${choice}"`).join(", ");
  return `Invalid request.\n\nFor 'properties/${key}', ${rubyInspect(body[key])} is not one of [${choices}].`;
}
