import { createHmac } from "node:crypto";
import { z } from "zod";
import type { StoredEvent } from "../../events/stored-event.ts";

/** One line of a real client (test clients are counted apart), as every figure sees it. */
export interface TallyLine {
  event: StoredEvent;
  /** What the event stands for: 1/r for `metadata.sampling_rate` r in (0, 1], else 1. */
  weight: number;
  /** The install's hash (installHash), computed once and counted by every set of installs. */
  hash: number;
  /** The key of the keyed hash a kept sample names its install by (see keyedInstall). */
  installKey: string;
}

/** One figure of a tally: counts a line, takes in another of its kind, and writes its keys of the rollup. */
export interface Figure<Encoded> {
  add(line: TallyLine): void;
  merge(other: this): void;
  encode(): Encoded;
}

/**
 * A kind of figure, as the tally's list holds it: its keys of the rollup with their zod schemas (in
 * the rollup's order; the rollup's schema is assembled from them), a new one, and one read back.
 */
export interface FigureKind<Shape extends z.ZodRawShape> {
  readonly shape: Shape;
  new (): Figure<z.output<z.ZodObject<Shape>>>;
  decode(rollup: z.output<z.ZodObject<Shape>>): Figure<z.output<z.ZodObject<Shape>>>;
}

/** A sampling-weighted estimate (an event sent with `sampling_rate` r counts 1/r): not always whole. */
export const estimate = z.number().nonnegative();
export const lines = z.number().int().nonnegative();
export const installSet = z
  .string()
  .describe(
    "Distinct installs (base64), mergeable across days: the exact set of their 48-bit hashes up to 10,000, then a HyperLogLog sketch of 2^16 registers (0.41% standard error); a day upgraded from format 2 holds its sketch of 2^14 (0.8%) or 2^11 (2.3%) registers",
  );
export const outcomes = z.object({ success: estimate, failure: estimate });

export type Outcomes = z.output<typeof outcomes>;

export function addOutcomes(into: Outcomes, from: Outcomes): void {
  into.success += from.success;
  into.failure += from.failure;
}

/** A key of several fields: the separator cannot appear in JSON-decoded text we key by. */
export function joinKey(...fields: string[]): string {
  return fields.join("\u0000");
}

/** A metadata field that holds some text. */
export function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Plain code-point order: the same on every machine, unlike a locale's. */
export function keyOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Which install a kept sample (an error's message, a model's name) came from, as a keyed hash of its
 * stored id (HMAC-SHA256 with the tally's install key, 16 hex digits): an erasure that knows the key
 * finds the samples to forget (lib/tally/forget-installs.ts); a reader of the rollup cannot tell the install.
 */
export function keyedInstall(installKey: string, hwid: string): string {
  return createHmac("sha256", installKey).update(hwid).digest("hex").slice(0, 16);
}
