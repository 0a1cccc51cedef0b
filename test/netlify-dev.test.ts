import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedEventSchema } from "../lib/event.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };
import { startNetlifyDev, type NetlifyDev } from "./support/netlify-dev.ts";

const SLOW = 180_000;

describe("netlify dev with the local folder store", () => {
  let dev: NetlifyDev;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "telemetry-dev-"));
    dev = await startNetlifyDev({ TELEMETRY_LOCAL_DIR: dir });
  }, SLOW);
  afterAll(async () => {
    await dev?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("stores an event posted to /api/v1/telemetry through the netlify.toml redirect", async () => {
    const response = await fetch(`${dev.url}/api/v1/telemetry`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(seeds.app_launch_with_os),
    });
    expect(response.status).toBe(201);
    const { status, event_id } = await response.json();
    expect(status).toBe("success");

    const day = new Date().toISOString().slice(0, 10).split("-");
    const text = await readFile(join(dir, "telemetry", day[0]!, day[1]!, `${day[2]}.ndjson`), "utf8");
    const record = storedEventSchema.parse(JSON.parse(text));
    expect(record).toMatchObject({ ...seeds.app_launch_with_os, event_id, ip: "127.0.0.1" });
  });

  it("answers health and refusals through the redirects", async () => {
    const health = await fetch(`${dev.url}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", storage: "local", dir });

    const get = await fetch(`${dev.url}/api/v1/telemetry`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const bad = await fetch(`${dev.url}/api/v1/telemetry`, { method: "POST", body: "{", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: "error", error: "invalid_json" });
    expect((await readdir(join(dir), { recursive: true })).filter((name) => name.endsWith(".ndjson"))).toHaveLength(1);
  });
});
