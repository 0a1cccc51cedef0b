import { createHash } from "node:crypto";
import type { AlertKind } from "../config.ts";
import { credentialIn } from "../events/scrub-metadata.ts";

/** The label every alert issue carries: how the job lists them, and how a maintainer filters them. */
export const ALERT_LABEL = "telemetry-alert";
const MARKER = /<!-- telemetry-alert:([^\s>]+) -->/;
/** A key longer than this (a client's own error_hash can be anything) is named by its digest. */
const MAX_KEY_CHARS = 100;

/** What the job wants of one alert's issue this run. */
export type AlertAction =
  | { do: "open"; key: string; kind: AlertKind; title: string; body: string; since: number }
  | { do: "reopen"; key: string; number: number; comment: string }
  | { do: "close"; key: string; number: number; comment: string }
  /** A comment, unless one carrying `once` (a hidden mark) is on the issue already. */
  | { do: "comment"; key: string; number: number; comment: string; once: string };

/**
 * The hidden line an alert's issue body starts with, which finds the issue again: its kind and what
 * it is about, e.g. `<!-- telemetry-alert:error-group:001a005eb258c428 -->`.
 */
export function alertMarker(key: string): string {
  return `<!-- telemetry-alert:${key} -->`;
}

/** The key of an alert issue's marker; undefined for an issue without one (a person's, with the label). */
export function markerKey(body: string): string | undefined {
  return MARKER.exec(body)?.[1];
}

/**
 * A key part from any text, safe inside the marker (no space, no `>`), and short; named by its digest
 * when it holds what the scrubber redacts from an issue's text (a token as error_hash), so that
 * scrubbing the body leaves the marker as it is, and the marker holds no credential.
 */
export function keyPart(text: string): string {
  const safe = encodeURIComponent(text);
  return safe.length <= MAX_KEY_CHARS && credentialIn(safe) === undefined
    ? safe
    : createHash("sha256").update(text).digest("hex").slice(0, 32);
}
