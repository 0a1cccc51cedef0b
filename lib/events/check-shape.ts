/** How big a client's metadata may be; past these limits it is refused, not trimmed. */
export interface ShapeLimits {
  /** Objects and arrays inside one another, the metadata object itself being the first level. */
  maxDepth: number;
  /** Object keys plus array items, counted across the whole value. */
  maxEntries: number;
  maxKeyLength: number;
  maxStringLength: number;
}

export const SHAPE_LIMITS = {
  maxDepth: 8,
  maxEntries: 1000,
  maxKeyLength: 128,
  maxStringLength: 16_384,
} as const satisfies ShapeLimits;

/** Enough for a client to fix its payload; a hostile one must not get a huge answer. */
const MAX_ISSUES = 20;
/** Keys that would reach an object's prototype if any later code assigned them. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
/** How much of an over-long key a message quotes. */
const KEY_PREVIEW_CHARACTERS = 32;

export type ShapePath = (string | number)[];

export interface ShapeIssue {
  path: ShapePath;
  message: string;
}

type Frame =
  | { path: ShapePath; items: readonly unknown[]; next: number }
  | { path: ShapePath; object: Readonly<Record<string, unknown>>; keys: readonly string[]; next: number };

/**
 * Problems with a raw JSON value (the metadata object as JSON.parse gave it); [] when it is within the limits.
 *
 * The walk keeps its own stack and never goes below `maxDepth`, so nesting of any depth costs no
 * more than nesting one level too deep, and it stops once the value has more entries than allowed
 * or enough issues are found, so a huge array costs no more than `maxEntries` items.
 */
export function checkShape(value: unknown, limits: ShapeLimits = SHAPE_LIMITS): ShapeIssue[] {
  const issues: ShapeIssue[] = [];
  const stack: Frame[] = [];
  let entries = 0;
  let reportedDepth = false;

  const visit = (child: unknown, path: ShapePath): void => {
    if (typeof child === "string") {
      const length = characterCount(child, limits.maxStringLength);
      if (length > limits.maxStringLength) {
        issues.push({ path, message: `string is ${length} characters; the limit is ${limits.maxStringLength}` });
      }
      return;
    }
    if (typeof child !== "object" || child === null) return;
    if (path.length >= limits.maxDepth) {
      if (!reportedDepth) {
        issues.push({
          path,
          message: `objects and arrays are nested more than ${limits.maxDepth} levels deep (metadata itself is the first level); the limit is ${limits.maxDepth}`,
        });
      }
      reportedDepth = true;
      return;
    }
    if (Array.isArray(child)) stack.push({ path, items: child, next: 0 });
    else stack.push({ path, object: child as Record<string, unknown>, keys: Object.keys(child), next: 0 });
  };

  visit(value, []);
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const frame = stack.at(-1)!;
    const index = frame.next;
    if (index >= ("items" in frame ? frame.items.length : frame.keys.length)) {
      stack.pop();
      continue;
    }
    frame.next += 1;
    entries += 1;
    if (entries > limits.maxEntries) {
      issues.push({
        path: [],
        message: `more than ${limits.maxEntries} entries (object keys and array items, counted together); the limit is ${limits.maxEntries}`,
      });
      break;
    }
    if ("items" in frame) {
      visit(frame.items[index], [...frame.path, index]);
      continue;
    }
    const key = frame.keys[index]!;
    if (FORBIDDEN_KEYS.has(key)) {
      issues.push({ path: [...frame.path, key], message: `key ${key} is not allowed` });
      continue;
    }
    const keyLength = characterCount(key, limits.maxKeyLength);
    if (keyLength > limits.maxKeyLength) {
      // Reported at the object holding it, quoting its start, so the answer does not echo the whole key.
      issues.push({
        path: frame.path,
        message: `key "${preview(key)}" is ${keyLength} characters; the limit is ${limits.maxKeyLength}`,
      });
      continue;
    }
    visit(frame.object[key], [...frame.path, key]);
  }
  return issues;
}

/**
 * Characters as Python's len() counts them (code points), so a client's own check agrees with
 * this one; counted only when the UTF-16 length, which is never smaller, is over `limit`.
 */
function characterCount(text: string, limit: number): number {
  if (text.length <= limit) return text.length;
  let count = 0;
  for (const _character of text) count += 1;
  return count;
}

function preview(key: string): string {
  // A code point is at most two UTF-16 units, so this slice holds the whole start without splitting one.
  const start = Array.from(key.slice(0, KEY_PREVIEW_CHARACTERS * 2))
    .slice(0, KEY_PREVIEW_CHARACTERS)
    .join("");
  return start.length < key.length ? `${start}…` : start;
}
