import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DAY_MS } from "../lib/day.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { reportHealth } from "../lib/http/endpoints/report-health.ts";
import type { Runtime } from "../lib/runtime.ts";
import { describe, expect, test } from "./support/fixtures.ts";
import { runCli } from "./support/run-cli.ts";

/**
 * `telemetry doctor` as a maintainer runs it: its own process, against a site whose health is the real
 * endpoint's answer (over a runtime on the GitHub stand-in and Blobs' own server), and the stand-in itself.
 */

const CHECKS = [
  "site",
  "health",
  "configuration",
  "GitHub credential",
  "token expiry",
  "repository",
  "write access",
  "branch",
  "push protection",
  "last flush",
  "last publish",
  "spool",
];

/** A site on loopback that answers health as the deployed endpoint does, and nothing else. */
async function serveSite(runtime: Runtime, { onCleanup }: { onCleanup: (fn: () => Promise<void>) => void }) {
  const server = createServer((incoming, outgoing) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers))
      if (typeof value === "string") headers.set(name, value);
    const request = new Request(`http://127.0.0.1${incoming.url ?? "/"}`, { headers });
    const answer =
      new URL(request.url).pathname === "/api/v1/health"
        ? reportHealth(request, runtime)
        : Promise.resolve(new Response(JSON.stringify({ message: "Not Found" }), { status: 404 }));
    void answer.then(async (response) => {
      outgoing.writeHead(response.status, Object.fromEntries(response.headers));
      outgoing.end(Buffer.from(await response.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `env`: the GitHub settings of the maintainer's machine. */
async function doctor(site: string, env: Record<string, string>, repository = "acme/data") {
  const outcome = await runCli(["doctor", "--url", site, "--github", repository], env);
  const lines = outcome.stdout.trimEnd().split("\n");
  const line = (name: string) => lines.find((text) => text.slice(2).startsWith(`${name}:`));
  return { ...outcome, lines, line };
}

function expectNoLeak(outcome: { stdout: string; stderr: string }, token: string) {
  expect(outcome.stdout + outcome.stderr).not.toContain(token);
  // One line a check, never a stack trace.
  expect(outcome.stdout + outcome.stderr).not.toMatch(/^\s+at /m);
  expect(outcome.stderr).toBe("");
}

describe("telemetry doctor", () => {
  test("says every check passes for a good token on a working site, and exits 0", async ({
    serveGitHub,
    runtimeOf,
    onTestFinished,
  }) => {
    const { fake, env } = await serveGitHub({
      tokenExpiresAt: new Date(Date.now() + 90 * DAY_MS),
      permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
      pushProtection: { example_secret: /SCAN-ME-[0-9]{6}/ },
    });
    const runtime = runtimeOf(env);
    const accepted = await ingest(
      new Request("http://127.0.0.1/api/v1/telemetry", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ hwid: "h", event_name: "app_launch", app_version: "1.0.0" }),
      }),
      { runtime },
    );
    expect(accepted.status).toBe(201);
    expect(await runtime.spool!.flush(10_000)).toMatchObject({ events: 1 });
    expect(await runtime.publish(25_000)).toMatchObject({ outcome: "published" });
    expect(fake.paths()).toContain("dashboard/README.md");
    expect(fake.file("dashboard/README.md")).toMatch(/^- Events last stored: \d{4}-\d\d-\d\dT/m);
    const site = await serveSite(runtime, { onCleanup: onTestFinished });

    const outcome = await doctor(site, env);
    expect(outcome.code, outcome.stdout).toBe(0);
    expect(outcome.lines.map((text) => text.slice(2, text.indexOf(":")))).toEqual(CHECKS);
    for (const text of outcome.lines) expect(text).toMatch(/^✓ /);
    expect(outcome.line("token expiry")).toMatch(/in (89|90) days/);
    expect(outcome.line("push protection")).toMatch(/on/);
    expect(outcome.line("last flush")).toMatch(/1 event/);
    expectNoLeak(outcome, env.GITHUB_TOKEN);

    // A flush with nothing to store: the last flush says 0, and when events were last stored.
    expect(await runtime.spool!.flush(10_000)).toMatchObject({ events: 0 });
    const idle = await doctor(site, env);
    expect(idle.line("last flush")).toMatch(/: 0 event\(s\) in 0 commit\(s\); events last stored \S+ \(just now\)$/);
  });

  test("says the credential is refused for a revoked token, and exits 1", async ({
    serveGitHub,
    runtimeOf,
    onTestFinished,
  }) => {
    const { fake, env } = await serveGitHub({});
    const site = await serveSite(runtimeOf(env), { onCleanup: onTestFinished });
    fake.revokeTokenFor(DAY_MS);

    const outcome = await doctor(site, env);
    expect(outcome.code, outcome.stdout).toBe(1);
    expect(outcome.line("site")).toMatch(/^✓ /);
    expect(outcome.line("GitHub credential")).toMatch(/^✗ GitHub credential: .*401 Bad credentials.*GITHUB_TOKEN/);
    expectNoLeak(outcome, env.GITHUB_TOKEN);
  });

  test("says the token cannot write for a read-only token, and exits 1", async ({
    serveGitHub,
    runtimeOf,
    onTestFinished,
  }) => {
    const { env, url } = await serveGitHub({
      permissions: { admin: false, maintain: false, push: false, triage: false, pull: true },
    });
    // The stand-in refuses its writes as GitHub does.
    const write = await fetch(`${url}/repos/acme/data/contents/x.txt`, {
      method: "PUT",
      headers: { authorization: `Bearer ${env.GITHUB_TOKEN}` },
      body: JSON.stringify({ message: "x", content: "eA==" }),
    });
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject({ message: "Resource not accessible by personal access token" });
    const site = await serveSite(runtimeOf(env), { onCleanup: onTestFinished });

    const outcome = await doctor(site, env);
    expect(outcome.code, outcome.stdout).toBe(1);
    expect(outcome.line("GitHub credential")).toMatch(/^✓ /);
    expect(outcome.line("repository")).toMatch(/^✓ /);
    expect(outcome.line("write access")).toMatch(/^✗ write access: .*read.*Contents: read and write/);
    expectNoLeak(outcome, env.GITHUB_TOKEN);
  });

  test("says the repository is missing when GitHub does not know it, and exits 1", async ({
    serveGitHub,
    runtimeOf,
    onTestFinished,
  }) => {
    const { env } = await serveGitHub({});
    const site = await serveSite(runtimeOf(env), { onCleanup: onTestFinished });

    const outcome = await doctor(site, env, "acme/missing");
    expect(outcome.code, outcome.stdout).toBe(1);
    expect(outcome.line("GitHub credential")).toMatch(/^✓ /);
    expect(outcome.line("repository")).toMatch(/^✗ repository: acme\/missing .*404/);
    expectNoLeak(outcome, env.GITHUB_TOKEN);
  });

  test("says the branch refuses the service's commits when its protection or a ruleset requires pull requests", async ({
    serveGitHub,
    runtimeOf,
    onTestFinished,
  }) => {
    const { env } = await serveGitHub({
      permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
      branchProtection: { required_pull_request_reviews: { required_approving_review_count: 1 } },
      branchRules: [{ type: "pull_request", parameters: { required_approving_review_count: 1 } }],
      tokenExpiresAt: new Date(Date.now() + 3 * DAY_MS),
    });
    const site = await serveSite(runtimeOf(env), { onCleanup: onTestFinished });

    const outcome = await doctor(site, env);
    expect(outcome.code, outcome.stdout).toBe(1);
    expect(outcome.line("branch")).toMatch(
      /^✗ branch: main: its protection requires pull request reviews; a ruleset requires/,
    );
    expect(outcome.line("token expiry")).toMatch(/^✗ token expiry: expires at .* \(in 2 days\): renew it/);
    expect(outcome.line("push protection")).toMatch(/^✗ push protection: off/);
    expectNoLeak(outcome, env.GITHUB_TOKEN);
  });

  test("says the site cannot be reached, in one line, and exits 1", async ({ serveGitHub }) => {
    const { env } = await serveGitHub({});
    const outcome = await doctor("http://127.0.0.1:9", env);
    expect(outcome.code, outcome.stdout).toBe(1);
    expect(outcome.lines[0]).toMatch(/^✗ site: cannot reach http:\/\/127\.0\.0\.1:9 .*--url/);
    expect(outcome.line("repository")).toMatch(/^✓ /);
    expectNoLeak(outcome, env.GITHUB_TOKEN);
  });

  test("says a GitHub App's tokens need no renewing, and that a key not the app's is refused", async ({
    serveGitHub,
    runtimeOf,
    onTestFinished,
  }) => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const { url } = await serveGitHub({ app: { id: "424242", publicKey, installationId: 99 } });
    const app = (key: typeof privateKey) => ({
      GITHUB_APP_ID: "424242",
      GITHUB_APP_PRIVATE_KEY: key.export({ type: "pkcs8", format: "pem" }).toString(),
      GITHUB_APP_INSTALLATION_ID: "99",
      GITHUB_REPOSITORY: "acme/data",
      GITHUB_API_URL: url,
    });
    const site = await serveSite(runtimeOf(app(privateKey)), { onCleanup: onTestFinished });

    const good = await doctor(site, app(privateKey));
    expect(good.code, good.stdout).toBe(0);
    expect(good.line("GitHub credential")).toMatch(/^✓ GitHub credential: .*app 424242's installation 99/);
    expect(good.line("token expiry")).toMatch(/^✓ token expiry: .*nothing to renew/);

    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const refused = await doctor(site, app(other));
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.line("GitHub credential")).toMatch(
      /^✗ GitHub credential: GitHub answered 401 .*GITHUB_APP_PRIVATE_KEY/,
    );
    expectNoLeak(refused, "PRIVATE KEY");
  });
});
