/**
 * The ledger of a fuzz run: the store, read as it grows. Each new line is checked (JSON, a valid
 * stored record within the shape limits, in its day's file, an id not stored before, no prototype
 * keys), each answer is set against the lines it stored, and at the end every file is read again
 * and its lines counted against what the 201 answers said they took.
 */
import { open, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { expect } from "vitest";
import { storedEventSchema } from "../../lib/events/stored-event.ts";
import { checkShape } from "../../lib/events/check-shape.ts";

/** Keys that reach a prototype: no stored record may hold one. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
/** Object's and Array's own properties before any request: a request must add none. */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();
const ARRAY_PROTOTYPE_NAMES = Object.getOwnPropertyNames(Array.prototype).sort();

export class Ledger {
  private readonly ids = new Set<string>();
  private readonly offsets = new Map<string, number>();
  /** Lines found so far. */
  lines = 0;
  /** What the 201 answers said was taken and not a duplicate (accepted less duplicates), and how much of it could be of a dropped client type. */
  private claimed = 0;
  private droppable = 0;
  private readonly statuses = new Map<number, number>();

  constructor(private readonly dir: string) {}

  /**
   * Sets an answer against the lines it stored: a 201 stored what it took, less at most
   * `droppable` events (those the body holds of a dropped client type); any other answer stored
   * nothing. Then no prototype may have gained a property.
   */
  async settle(status: number, body: Record<string, unknown> | undefined, droppable: number): Promise<void> {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    const stored = await this.newLines();
    if (status === 201) {
      expect(body!.status).toBe("success");
      const {
        accepted,
        duplicates = 0,
        rejected,
      } = body as { accepted: number; duplicates?: number; rejected: unknown };
      expect(Number.isInteger(accepted) && accepted >= 1, `accepted ${accepted}`).toBe(true);
      expect(Number.isInteger(duplicates) && duplicates >= 0 && duplicates < accepted).toBe(true);
      expect(Array.isArray(rejected)).toBe(true);
      for (const item of rejected as { index: unknown; issues: unknown }[]) {
        expect(Number.isInteger(item.index)).toBe(true);
        expect(Array.isArray(item.issues)).toBe(true);
      }
      // Taken and not stored: only events of a dropped client type (every id here is new to the store).
      this.claimed += accepted - duplicates;
      this.droppable += Math.min(droppable, accepted - duplicates);
      const notStored = accepted - duplicates - stored.length;
      expect(
        notStored,
        `${accepted} accepted, ${duplicates} duplicates, ${stored.length} stored`,
      ).toBeGreaterThanOrEqual(0);
      expect(notStored).toBeLessThanOrEqual(droppable);
      if (typeof body!.event_id === "string")
        expect(stored.map((record) => (record as { event_id: string }).event_id)).toContain(body!.event_id);
    } else {
      expect(stored, `nothing is stored on a ${status}`).toEqual([]);
    }
    expectPrototypesIntact();
  }

  /**
   * The lines appended since the last call, each checked: every file is looked at, since one
   * request may top up a day's newest part and go on into the next. verifyAll counts every line.
   */
  async newLines(): Promise<unknown[]> {
    const records: unknown[] = [];
    const paths = await dataFiles(this.dir);
    for (const path of paths) {
      const from = this.offsets.get(path);
      const file = await open(path);
      try {
        const { size } = await file.stat();
        if (size === (from ?? 0)) continue;
        const buffer = Buffer.alloc(size - (from ?? 0));
        await file.read(buffer, 0, buffer.length, from ?? 0);
        this.offsets.set(path, size);
        const text = buffer.toString("utf8");
        expect(text.endsWith("\n"), `${path} ends with a whole line`).toBe(true);
        for (const line of text.slice(0, -1).split("\n"))
          records.push(checkLine(line, relative(this.dir, path).replaceAll("\\", "/"), this.ids));
      } finally {
        await file.close();
      }
    }
    this.lines += records.length;
    return records;
  }

  /** Every file read again from the start: as many valid lines as were counted, each id once. */
  async verifyAll(): Promise<void> {
    const ids = new Set<string>();
    let lines = 0;
    for (const path of await dataFiles(this.dir)) {
      const text = await readFile(path, "utf8");
      if (text === "") continue;
      expect(text.endsWith("\n")).toBe(true);
      for (const line of text.slice(0, -1).split("\n")) {
        checkLine(line, relative(this.dir, path).replaceAll("\\", "/"), ids);
        lines += 1;
      }
    }
    expect(lines).toBe(this.lines);
    expect(ids).toEqual(this.ids);
    expect(lines).toBeLessThanOrEqual(this.claimed);
    expect(lines).toBeGreaterThanOrEqual(this.claimed - this.droppable);
  }

  /** The newest line of the newest file. */
  async lastRecord(): Promise<{ metadata: Record<string, unknown>; redactions?: number }> {
    const files = await dataFiles(this.dir);
    const lines = (await readFile(files.at(-1)!, "utf8")).trimEnd().split("\n");
    return JSON.parse(lines.at(-1)!);
  }

  /** With FUZZ_STATS set: how the answers of a property were spread, and how much was stored. */
  report(name: string): void {
    if (!process.env.FUZZ_STATS) return;
    const statuses = Object.fromEntries([...this.statuses].sort(([a], [b]) => a - b));
    console.info(`${name}: ${JSON.stringify(statuses)}, ${this.lines} lines stored`);
  }
}

async function dataFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).replaceAll("\\", "/"))
    .sort();
}

/**
 * One stored line: JSON, a valid record within the shape limits, no prototype keys, in its day's
 * file, an id not stored before. Plain checks, thrown together: this runs for every line stored.
 */
function checkLine(line: string, path: string, ids: Set<string>): unknown {
  const problems: string[] = [];
  if (!line.startsWith('{"event_id":"')) problems.push("the line does not start with its event id");
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`${path}: a stored line is not JSON (${(error as Error).message}): ${line.slice(0, 300)}`);
  }
  const parsed = storedEventSchema.safeParse(value);
  if (!parsed.success) {
    problems.push(
      `storedEventSchema: ${parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join(", ")}`,
    );
  } else {
    const record = parsed.data;
    const shape = checkShape(record.metadata);
    if (shape.length > 0)
      problems.push(`shape: ${shape.map((issue) => `${issue.path.join(".")} ${issue.message}`).join(", ")}`);
    if (record.client_type === "unit-tests") problems.push("a dropped client type was stored");
    const day = record.created_at.slice(0, 10).replaceAll("-", "/");
    if (!new RegExp(`^telemetry/${day}/\\d{4,}\\.ndjson$`).test(path))
      problems.push(`created_at ${record.created_at} is not the day of ${path}`);
    if (ids.has(record.event_id)) problems.push(`event ${record.event_id} is stored twice`);
    ids.add(record.event_id);
  }
  const keys = prototypeKeys(value);
  if (keys.length > 0) problems.push(`prototype keys at ${keys.join(", ")}`);
  if (problems.length > 0)
    throw new Error(`${path}: a stored line is invalid: ${problems.join("; ")}\n${line.slice(0, 300)}`);
  return value;
}

/** Paths of __proto__, constructor and prototype keys anywhere in a parsed value. */
function prototypeKeys(value: unknown): string[] {
  const found: string[] = [];
  const stack: [unknown, string][] = [[value, ""]];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    for (const key of Object.keys(current)) {
      if (FORBIDDEN_KEYS.has(key)) found.push(`${path}.${key}`);
      stack.push([(current as Record<string, unknown>)[key], `${path}.${key}`]);
    }
  }
  return found;
}

/** No request may have added a property to Object.prototype or Array.prototype. */
function expectPrototypesIntact(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_NAMES);
  expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(ARRAY_PROTOTYPE_NAMES);
}
