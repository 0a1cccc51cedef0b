import { resolveConfig } from "@netlify/config";
import { describe, expect, it } from "vitest";

describe("netlify.toml, as Netlify's own configuration resolver reads it", () => {
  it("routes the API paths to their functions, and rate-limits telemetry to 300 requests a minute per client address", async () => {
    const { config } = await resolveConfig({
      cwd: new URL("..", import.meta.url).pathname,
      offline: true,
      context: "production",
    });
    const redirect = (from: string) => config.redirects.find((rule: { from: string }) => rule.from === from);
    expect(redirect("/api/v1/telemetry")).toMatchObject({
      to: "/.netlify/functions/telemetry",
      status: 200,
      force: true,
      rate_limit: { window_limit: 300, window_size: 60, aggregate_by: ["ip", "domain"] },
    });
    expect(redirect("/api/v1/health")).toMatchObject({ to: "/.netlify/functions/health", status: 200 });
    expect(redirect("/api/v1/schema")).toMatchObject({ to: "/.netlify/functions/schema", status: 200 });
    expect(redirect("/api/v1/schema/*")).toMatchObject({ to: "/.netlify/functions/schema/:splat", status: 200 });
  });

  it("routes each job a caller starts through /api/v1/jobs/, rate-limited per client address: Netlify limits redirects only", async () => {
    const { config } = await resolveConfig({
      cwd: new URL("..", import.meta.url).pathname,
      offline: true,
      context: "production",
    });
    const redirect = (from: string) => config.redirects.find((rule: { from: string }) => rule.from === from);
    for (const [job, fn] of [
      ["flush", "flush"],
      ["publish", "publish"],
      ["retention", "retention"],
      ["erase", "erase-background"],
    ]) {
      expect(redirect(`/api/v1/jobs/${job}`), job).toMatchObject({
        to: `/.netlify/functions/${fn}`,
        status: 200,
        force: true,
        rate_limit: { window_limit: expect.any(Number), window_size: 60, aggregate_by: ["ip", "domain"] },
      });
    }
  });
});
