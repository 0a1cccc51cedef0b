import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { loadConfig } from "../../lib/config.ts";
import { storedEventSchema, type StoredEvent } from "../../lib/events/stored-event.ts";
import { ingest } from "../../lib/http/endpoints/ingest.ts";
import { createRuntime, type Runtime } from "../../lib/runtime.ts";
import type { BlobStore } from "../../lib/spool/blob-store.ts";
import { expect, test } from "./fixtures.ts";

/*
 * The ingest protocol as a client sees it, end to end (test/ingest-protocol/*.test.ts): a real
 * configuration, the local folder store and, where the spool matters, `@netlify/blobs`' own server in
 * front of it. A file calls `setUpProtocol()`; each test then has `runtime` over a folder of its own.
 */

export const ENDPOINT = "http://localhost/api/v1/telemetry";
export const KIB = 1024;
export const MIB = 1024 * KIB;
export const SECRET = "shared-secret-for-protocol-tests";
export const ORIGIN = "https://app.example.com";
export const CLIENT_ID = "0f8fad5b-d9cb-469f-a165-70867728950e";
const UNPACED = { perMinute: 10_000, perHour: 100_000 };

type Ready = Runtime & { ok: true };

export let dir: string;
/** This test's store on the file's Blobs server, for the tests that turn the spool on. */
let spoolStore: BlobStore;
export let runtime: Ready;

/** Gives each test of the calling file a folder of its own and a runtime over it, the spool off. */
export function setUpProtocol(): void {
  test.beforeEach(async ({ tempDir, spoolStore: store }) => {
    dir = await tempDir("telemetry-protocol-");
    spoolStore = store;
    use();
  });
}

/**
 * Makes `runtime` one over this test's folder, with `env` on top: the spool off (every request
 * writes to the folder), or on, backed by the test's store on the file's Blobs server. Writes are not paced.
 */
export function use(
  env: Record<string, string> = {},
  { spool = false, clock = systemClock, maxFileBytes }: { spool?: boolean; clock?: Clock; maxFileBytes?: number } = {},
): void {
  const loaded = loadConfig({ TELEMETRY_LOCAL_DIR: dir, TELEMETRY_SPOOL: spool ? "on" : "off", ...env });
  // Past what the environment may set (GitHub's limits, a 64 KiB cap): a test must not wait on the pace,
  // and a part rolls over after a few events.
  const config = {
    ...loaded,
    maxFileBytes: maxFileBytes ?? loaded.maxFileBytes,
    spool: { ...loaded.spool, limits: UNPACED },
  };
  runtime = createRuntime(config, spool ? { blobs: spoolStore, clock } : { clock }) as Ready;
}

interface PostOptions {
  headers?: Record<string, string>;
  /** The address the platform saw; `undefined` for none (as when it gives none), the default 203.0.113.7. */
  platformIp?: string | undefined;
  bodyDecoded?: boolean;
}

/** POSTs `body` (sent as is when text or bytes, else as JSON) as a client at 203.0.113.7 would. */
export function post(body: unknown, { headers = {}, ...context }: PostOptions = {}) {
  const raw = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  return ingest(
    new Request(ENDPOINT, {
      method: "POST",
      body: raw as BodyInit,
      headers: { "content-type": "application/json", ...headers },
    }),
    { runtime, platformIp: "203.0.113.7", ...context },
  );
}

export const preflight = (origin: string) =>
  ingest(
    new Request(ENDPOINT, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-telemetry-key",
      },
    }),
    { runtime },
  );

/** Drains the spool into the folder, and checks that it is empty afterwards. */
export async function flush(): Promise<void> {
  const report = await runtime.spool!.flush(5000);
  expect(report?.outcome).toBe("idle");
}

/** The stored files, relative to the folder, in the order a listing gives them. */
export async function storedFiles(): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

export async function storedLines(): Promise<string[]> {
  const texts = await Promise.all((await storedFiles()).map((file) => readFile(join(dir, file), "utf8")));
  return texts.flatMap((text) => text.split("\n").filter(Boolean));
}

/** Every stored line, checked against the documented record format. */
export async function stored(): Promise<StoredEvent[]> {
  return (await storedLines()).map((line) => storedEventSchema.parse(JSON.parse(line)));
}

export const event = (fields: Record<string, unknown> = {}) => ({
  hwid: "hw-1",
  event_name: "app_launch",
  app_version: "1.2.3",
  ...fields,
});

/** A JSON body of exactly `bytes` bytes: one event, then spaces (which JSON allows after a value). */
export function paddedBody(bytes: number): string {
  const text = JSON.stringify(event());
  return text + " ".repeat(bytes - Buffer.byteLength(text));
}
