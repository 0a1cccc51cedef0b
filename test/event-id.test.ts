import { v5 as uuidv5 } from "uuid";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../lib/config.ts";
import { prepareEvent } from "../lib/events/prepare-event.ts";

/** The namespace event ids made from an Idempotency-Key live in (prepare-event.ts). */
const IDEMPOTENCY_NAMESPACE = "c4ebc20c-6a1e-4f0e-96f2-a8db9cc2db78";
const HWID = "a-known-install-id";
const KEY = "retry-7";

function eventIdOf(env: Record<string, string>, hwid = HWID, idempotencyKey = KEY): string {
  const prepared = prepareEvent(
    { hwid, event_name: "app_launch", app_version: "1.0.0" },
    { ingest: loadConfig(env).ingest, receivedAt: new Date(), ip: null, idempotencyKey },
  );
  if (prepared.kind !== "kept") throw new Error(`not kept: ${prepared.kind}`);
  return prepared.event.event_id;
}

describe("an event id made from an Idempotency-Key", () => {
  const hashed = { TELEMETRY_HWID_MODE: "hash", TELEMETRY_HWID_SALT: "a-salt-of-sixteen-chars" };

  it("in hash mode is keyed with the salt: the raw id and the key alone do not give it", () => {
    const id = eventIdOf(hashed);
    expect(id).not.toBe(uuidv5(Buffer.from(`${HWID}\n${KEY}`, "utf8"), IDEMPOTENCY_NAMESPACE));
    expect(eventIdOf({ ...hashed, TELEMETRY_HWID_SALT: "another-salt-of-16-chars" })).not.toBe(id);
  });

  it("stays the same for the same install and key (a retry is stored once), and differs for another of either", () => {
    expect(eventIdOf(hashed)).toBe(eventIdOf(hashed));
    expect(eventIdOf(hashed, "another-install")).not.toBe(eventIdOf(hashed));
    expect(eventIdOf(hashed, HWID, "retry-8")).not.toBe(eventIdOf(hashed));
    expect(eventIdOf({})).toBe(eventIdOf({}));
  });
});
