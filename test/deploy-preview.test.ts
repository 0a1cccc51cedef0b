import { createServer, type Server } from "node:http";
import { getDeployStore, getStore } from "@netlify/blobs";
import { SPOOL_STORE_NAME } from "../lib/platform/spool-blobs.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };
import { buildFunctions, invokeBuilt, invokeWarm, type LambdaEvent } from "./support/built-functions.ts";
import { describe, expect, test } from "./support/fixtures.ts";

const SLOW = 240_000;
const SITE_NAME = "telemetry-site";
/** The site's Netlify Blobs region, which Netlify gives each invocation with its Blobs context. */
const REGION = "us-east-2" as const;
/** The site's URL (Netlify's `URL`, which reaches functions at run time): production's address. */
const PRODUCTION = `${SITE_NAME}.netlify.app`;

/** Where each deploy answers: its permalink, `<deploy id>--<site name>.netlify.app`, as Netlify documents DEPLOY_URL. */
const permalinkOf = (deployId: string) => `${deployId}--${SITE_NAME}.netlify.app`;

interface Deploy {
  context: string;
  id: string;
  published: boolean;
  /** The host the request came to. */
  host: string;
}

const PREVIEW: Deploy = {
  context: "deploy-preview",
  id: "6570a1b2c3d4e5f6a7b8c9d0",
  published: false,
  host: `deploy-preview-7--${SITE_NAME}.netlify.app`,
};
const PUBLISHED: Deploy = { context: "production", id: "6570aaaabbbbccccddddeeee", published: true, host: PRODUCTION };
const OLD_PRODUCTION: Deploy = {
  context: "production",
  id: "6560ffffeeeeddddccccbbbb",
  published: false,
  host: permalinkOf("6560ffffeeeeddddccccbbbb"),
};

/**
 * A stand-in for the internet, as the functions' HTTP proxy: it notes the host of every call a
 * function makes (a wake-up of a job at some deploy's URL) and answers none of them.
 */
async function startRecorder(): Promise<{ url: string; hosts: string[]; close(): Promise<void> }> {
  const hosts: string[] = [];
  const server: Server = createServer((request, response) => {
    hosts.push(new URL(request.url ?? "/").host);
    response.writeHead(502).end();
  });
  server.on("connect", (request, socket) => {
    hosts.push((request.url ?? "").replace(/:443$/, ""));
    socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    hosts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("the built functions, invoked as Netlify invokes them for each deploy", () => {
  let entries: Record<string, string>;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;

  test.beforeAll(async ({ tempDir }) => {
    entries = await buildFunctions(["telemetry", "erasure"], await tempDir("telemetry-built-"));
    recorder = await startRecorder();
  }, SLOW);
  test.afterAll(async () => {
    await recorder?.close();
  });

  /** What Netlify's Lambda gets at run time: its own variables, the site's three, and the site's settings; no build-time ones. */
  const runtimeEnv = (blobs: { url: string }): Record<string, string> => ({
    AWS_REGION: REGION,
    LAMBDA_TASK_ROOT: "/var/task",
    SITE_ID: "test-site",
    SITE_NAME,
    URL: `https://${PRODUCTION}`,
    GITHUB_TOKEN: "a-site-token",
    GITHUB_REPOSITORY: "acme/data",
    GITHUB_API_URL: "http://127.0.0.1:9",
    // The calls a function makes go through the recorder; the Blobs server is reached directly.
    NODE_USE_ENV_PROXY: "1",
    HTTPS_PROXY: recorder.url,
    HTTP_PROXY: recorder.url,
    NO_PROXY: new URL(blobs.url).hostname,
  });

  /** A request to `path` of `deploy`, as Netlify hands it to the function (the deploy's headers, the Blobs context). */
  const eventFor = (
    deploy: Deploy,
    path: string,
    body: unknown,
    blobs: { url: string; token: string; siteID: string },
  ): LambdaEvent => ({
    rawUrl: `https://${deploy.host}${path}`,
    path,
    httpMethod: "POST",
    headers: {
      host: deploy.host,
      "content-type": "application/json",
      "x-nf-client-connection-ip": "203.0.113.7",
      "x-nf-account-id": "test-account",
      "x-nf-site-id": blobs.siteID,
      "x-nf-deploy-id": deploy.id,
      "x-nf-deploy-context": deploy.context,
      "x-nf-deploy-published": deploy.published ? "1" : "0",
      "x-nf-request-id": "01TESTREQUEST",
      // Where Netlify's edge placed the caller (a function's context.geo is made of it).
      "x-nf-geo": Buffer.from(JSON.stringify({ country: { code: "SE", name: "Sweden" } })).toString("base64"),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    blobs: Buffer.from(
      JSON.stringify({ url: blobs.url, url_uncached: blobs.url, token: blobs.token, primary_region: REGION }),
    ).toString("base64"),
  });

  const storesOf = (deploy: Deploy, blobs: { url: string; token: string; siteID: string }) => {
    const options = {
      name: SPOOL_STORE_NAME,
      siteID: blobs.siteID,
      token: blobs.token,
      edgeURL: blobs.url,
      uncachedEdgeURL: blobs.url,
      consistency: "strong" as const,
      region: REGION,
    };
    return { site: getStore(options), own: getDeployStore({ ...options, deployID: deploy.id }) };
  };
  const keysOf = async (store: ReturnType<typeof getStore>) => (await store.list()).blobs.map((blob) => blob.key);

  test(
    "a deploy preview's events wait in the preview's own spool, and its wake-up goes to the preview's own URL",
    async ({ blobs }) => {
      recorder.hosts.length = 0;
      const answer = await invokeBuilt(
        entries.telemetry!,
        eventFor(PREVIEW, "/api/v1/telemetry", seeds.app_launch_minimal, blobs),
        runtimeEnv(blobs),
      );
      expect(answer.statusCode, answer.body).toBe(201);
      const { site, own } = storesOf(PREVIEW, blobs);
      expect((await keysOf(own)).filter((key) => key.startsWith("pending/"))).toHaveLength(1);
      expect(await keysOf(site)).toEqual([]);
      expect(recorder.hosts).toEqual([permalinkOf(PREVIEW.id)]);
    },
    SLOW,
  );

  test(
    "an old production deploy, reached at its permalink, keeps out of production's spool and wakes itself",
    async ({ blobs }) => {
      recorder.hosts.length = 0;
      const answer = await invokeBuilt(
        entries.telemetry!,
        eventFor(OLD_PRODUCTION, "/api/v1/telemetry", seeds.app_launch_minimal, blobs),
        runtimeEnv(blobs),
      );
      expect(answer.statusCode, answer.body).toBe(201);
      const { site, own } = storesOf(OLD_PRODUCTION, blobs);
      expect((await keysOf(own)).filter((key) => key.startsWith("pending/"))).toHaveLength(1);
      expect(await keysOf(site)).toEqual([]);
      expect(recorder.hosts).toEqual([permalinkOf(OLD_PRODUCTION.id)]);
    },
    SLOW,
  );

  test(
    "the published production deploy spools into the site's store and wakes its flush at the site's URL",
    async ({ blobs }) => {
      recorder.hosts.length = 0;
      const answer = await invokeBuilt(
        entries.telemetry!,
        eventFor(PUBLISHED, "/api/v1/telemetry", seeds.app_launch_minimal, blobs),
        runtimeEnv(blobs),
      );
      expect(answer.statusCode, answer.body).toBe(201);
      const { site, own } = storesOf(PUBLISHED, blobs);
      const pending = (await keysOf(site)).filter((key) => key.startsWith("pending/"));
      expect(pending.length).toBeGreaterThan(0);
      // The built function keeps the country Netlify's header gives, as the events wait to be stored.
      const waiting = await Promise.all(
        pending.map((key) => site.get(key, { type: "json" }) as Promise<{ events: { country?: string }[] }>),
      );
      expect(waiting.flatMap((entry) => entry.events.map((event) => event.country))).toContain("SE");
      expect(await keysOf(own)).toEqual([]);
      expect(recorder.hosts).toEqual([PRODUCTION]);
    },
    SLOW,
  );

  test(
    "a deploy preview's erasure request waits in the preview's store and starts the preview's job, not production's",
    async ({ blobs }) => {
      recorder.hosts.length = 0;
      const answer = await invokeBuilt(
        entries.erasure!,
        eventFor(PREVIEW, "/api/v1/erasure", { hwid: seeds.app_launch_minimal.hwid }, blobs),
        runtimeEnv(blobs),
      );
      expect(answer.statusCode, answer.body).toBe(202);
      const { site, own } = storesOf(PREVIEW, blobs);
      expect((await keysOf(own)).filter((key) => key.startsWith("erasure/pending/"))).toHaveLength(1);
      expect((await keysOf(site)).filter((key) => key.startsWith("erasure/"))).toEqual([]);
      expect(recorder.hosts).toEqual([permalinkOf(PREVIEW.id)]);
    },
    SLOW,
  );

  test(
    "a deploy preview without complete settings of its own answers 503, naming its context and what to set there",
    async ({ blobs }) => {
      // As after `netlify env:set … --secret --context production`: the app's key reaches production only.
      const { GITHUB_TOKEN: _token, ...env } = runtimeEnv(blobs);
      const answer = await invokeBuilt(
        entries.telemetry!,
        eventFor(PREVIEW, "/api/v1/telemetry", seeds.app_launch_minimal, blobs),
        { ...env, GITHUB_APP_ID: "123456", GITHUB_APP_INSTALLATION_ID: "12345678" },
      );
      expect(answer.statusCode).toBe(503);
      expect(JSON.parse(answer.body)).toEqual({
        status: "error",
        error: "storage_not_configured",
        message: expect.stringMatching(/GITHUB_APP_PRIVATE_KEY.*deploy-preview context/),
      });
    },
    SLOW,
  );

  test(
    "a warm instance of the published deploy leaves the site's spool once another deploy is published",
    async ({ blobs }) => {
      recorder.hosts.length = 0;
      const retired: Deploy = { ...PUBLISHED, id: "6570999988887777aaaabbbb" };
      const [before, after] = await invokeWarm(
        entries.telemetry!,
        [
          eventFor(retired, "/api/v1/telemetry", seeds.app_launch_minimal, blobs),
          eventFor(
            { ...retired, published: false, host: permalinkOf(retired.id) },
            "/api/v1/telemetry",
            seeds.app_launch_minimal,
            blobs,
          ),
        ],
        runtimeEnv(blobs),
      );
      expect([before!.statusCode, after!.statusCode]).toEqual([201, 201]);
      const { own } = storesOf(retired, blobs);
      expect((await keysOf(own)).filter((key) => key.startsWith("pending/"))).toHaveLength(1);
      expect(recorder.hosts).toEqual([PRODUCTION, permalinkOf(retired.id)]);
    },
    SLOW,
  );
});
