import seeds from "./fixtures/seed-events.json" with { type: "json" };
import { expect, test } from "./support/fixtures.ts";
import { startNetlifyDev, type NetlifyDev } from "./support/netlify-dev.ts";

/** The Vector Inspector client's own limit: past it, it gives the event up. */
const CLIENT_TIMEOUT_MS = 5000;

let dev: NetlifyDev | undefined;
test.afterAll(async () => {
  await dev?.stop();
});

test("npm start says it is ready only once it answers: the first event after that is taken within the client's timeout", async ({
  tempDir,
}) => {
  dev = await startNetlifyDev({ TELEMETRY_LOCAL_DIR: await tempDir("telemetry-start-") });
  const response = await fetch(`${dev.url}/api/v1/telemetry`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(seeds.app_launch_minimal),
    signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
  });
  expect(response.status).toBe(201);
}, 300_000);
