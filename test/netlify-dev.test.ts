import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedEventSchema } from "../lib/event.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };
import { FakeGitHub, serveFakeGitHub } from "./support/fake-github.ts";
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

describe("netlify dev with GitHub (a stand-in on loopback, reached through GITHUB_API_URL)", () => {
  let dev: NetlifyDev;
  let fake: FakeGitHub;
  let github: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    fake = new FakeGitHub({ owner: "acme", repo: "data", token: "dev-token", empty: true, latencyMs: [20, 80] });
    github = await serveFakeGitHub(fake);
    dev = await startNetlifyDev({ GITHUB_TOKEN: "dev-token", GITHUB_REPOSITORY: "acme/data", GITHUB_API_URL: github.url });
  }, SLOW);
  afterAll(async () => {
    await dev?.stop();
    await github?.close();
  });

  const todaysLines = () => {
    const [year, month, day] = new Date().toISOString().slice(0, 10).split("-");
    return (fake.file(`telemetry/${year}/${month}/${day}.ndjson`) ?? "")
      .split("\n")
      .filter(Boolean)
      .map((line) => storedEventSchema.parse(JSON.parse(line)));
  };

  it("stores each seed example in GitHub as specified", async () => {
    const { about: _about, model_metadata_export_file: _export, ...examples } = seeds;
    for (const example of Object.values(examples)) {
      const response = await fetch(`${dev.url}/api/v1/telemetry`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(example),
      });
      expect(response.status).toBe(201);
      const { event_id } = await response.json();
      const stored = todaysLines().find((line) => line.event_id === event_id);
      expect(stored).toMatchObject({ ...example, metadata: "metadata" in example ? example.metadata : {} });
    }
    expect(await (await fetch(`${dev.url}/api/v1/health`)).json()).toMatchObject({ storage: "github", repository: "acme/data" });
  }, SLOW);

  it("20 clients posting 3 events each in parallel end with 60 lines, each exactly once; any other answer is a 503 with Retry-After", async () => {
    const before = todaysLines().length;
    const answers: number[] = [];
    const client = async (clientIndex: number) => {
      for (let eventIndex = 0; eventIndex < 3; eventIndex += 1) {
        const body = JSON.stringify({ hwid: `client-${clientIndex}`, event_name: "burst", app_version: "1.0.0", metadata: { n: eventIndex } });
        for (;;) {
          const response = await fetch(`${dev.url}/api/v1/telemetry`, { method: "POST", headers: { "content-type": "application/json" }, body });
          answers.push(response.status);
          if (response.status === 201) break;
          expect(response.status).toBe(503);
          const retryAfter = Number(response.headers.get("retry-after"));
          expect(retryAfter).toBeGreaterThan(0);
          await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, index) => client(index)));

    const burst = todaysLines().slice(before);
    expect(burst).toHaveLength(60);
    const keys = burst.map((line) => `${line.hwid}/${(line.metadata as { n: number }).n}`);
    expect(new Set(keys).size).toBe(60);
    expect(answers.filter((status) => status === 201)).toHaveLength(60);
  }, 600_000);
});
