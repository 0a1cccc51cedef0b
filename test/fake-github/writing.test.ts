import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import { describe, expect, it } from "vitest";
import { FakeGitHub } from "../support/fake-github/index.ts";
import { TOKEN, OWNER, REPO, ROOT_TREE, useFake, octokit, base64, failure, put, get, QUIET, useMsw } from "./client.ts";

useMsw();

describe("writing a file", () => {
  it("creates with 201, updates with the current sha with 200, one commit each", async () => {
    const fake = useFake({ empty: true });
    const created = await put(octokit(), "log/day.ndjson", "a\n");
    expect(created.status).toBe(201);
    expect(created.data.content).toMatchObject({
      path: "log/day.ndjson",
      name: "day.ndjson",
      sha: "78981922613b2afb6025042ff6bd878ac1994e85",
      size: 2,
    });
    expect(created.data.commit).toMatchObject({ message: "write log/day.ndjson", parents: [] });

    const updated = await put(octokit(), "log/day.ndjson", "a\nb\n", { sha: created.data.content!.sha! });
    expect(updated.status).toBe(200);
    expect(updated.data.commit.parents).toEqual([expect.objectContaining({ sha: created.data.commit.sha })]);
    expect(fake.file("log/day.ndjson")).toBe("a\nb\n");
    expect(fake.commits).toEqual([
      { sha: created.data.commit.sha, message: "write log/day.ndjson", path: "log/day.ndjson", branch: "main" },
      { sha: updated.data.commit.sha, message: "write log/day.ndjson", path: "log/day.ndjson", branch: "main" },
    ]);
    expect(fake.writeCount()).toBe(2);
  });

  it("builds each commit on git's tree of the whole branch", async () => {
    const fake = useFake();
    fake.seed("a/b.txt", "one\n");
    fake.seed("a.txt", "top\n");
    const { data } = await put(octokit(), "a/c/d.txt", "two\n");
    expect(data.commit.tree).toMatchObject({ sha: ROOT_TREE });
    expect(data.content!.sha).toBe("f719efd430d52bcfc8566a43b2eb655688d38871");
  });

  it("refuses to overwrite without a sha (422), and with a stale one (409)", async () => {
    const fake = useFake();
    fake.seed("f.txt", "v1\n");
    const stale = (await get(octokit(), "f.txt")).data as { sha: string };
    await put(octokit(), "f.txt", "v2\n", { sha: stale.sha });

    const noSha = await failure(put(octokit(), "f.txt", "v3\n"));
    expect(noSha.status).toBe(422);
    expect(noSha.data).toEqual({
      message: 'Invalid request.\n\n"sha" wasn\'t supplied.',
      documentation_url: "https://docs.github.com/rest/repos/contents#create-or-update-file-contents",
      status: "422",
    });
    const conflict = await failure(put(octokit(), "f.txt", "v3\n", { sha: stale.sha }));
    expect(conflict.status).toBe(409);
    expect(conflict.data.message).toBe(`f.txt does not match ${stale.sha}`);
    expect(fake.file("f.txt")).toBe("v2\n");
    expect(fake.requests.map((request) => `${request.method} ${request.status}`)).toEqual([
      "GET 200",
      "PUT 200",
      "PUT 422",
      "PUT 409",
    ]);
  });

  it("lets only one of two overlapping writes to one branch commit, even to different files", async () => {
    const fake = useFake({ latencyMs: [10, 30] });
    const results = await Promise.allSettled([put(octokit(), "one.txt", "1\n"), put(octokit(), "two.txt", "2\n")]);

    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = results.find((result) => result.status === "rejected")!.reason as {
      status: number;
      response: { data: { message: string } };
    };
    expect(lost.status).toBe(409);
    const [head] = fake.commits.map((commit) => commit.sha);
    expect(lost.response.data.message).toMatch(new RegExp(`^is at ${head} but expected [0-9a-f]{40}$`));
    expect(fake.commits).toHaveLength(1);
    expect(fake.paths()).toHaveLength(1);
  });

  it("makes writes that arrive together conflict even without latency", async () => {
    const fake = new FakeGitHub({ token: TOKEN, empty: true });
    const request = (path: string) =>
      new Request(`https://api.github.com/repos/acme/telemetry-data/contents/${path}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ message: "m", content: base64(path) }),
      });
    const first = fake.handle(request("a"));
    // The second write arrives after the first was read but within the same macrotask: still in flight together.
    for (let tick = 0; tick < 50; tick += 1) await Promise.resolve();
    const responses = await Promise.all([first, fake.handle(request("b"))]);
    expect(responses.map((response) => response.status)).toEqual([201, 409]);
    expect(((await responses[1].json()) as { message: string }).message).toMatch(
      /^is at [0-9a-f]{40} but expected 0{40}$/,
    );
  });

  it("answers GitHub's validation errors", async () => {
    const fake = useFake();
    const send = (body: Record<string, unknown>) =>
      octokit().request("PUT /repos/{owner}/{repo}/contents/{path}", {
        owner: OWNER,
        repo: REPO,
        path: "v.txt",
        ...body,
      } as never);
    const call = (body: Record<string, unknown>) => failure(send(body));

    expect((await call({ content: base64("x") })).data.message).toBe('Invalid request.\n\n"message" wasn\'t supplied.');
    expect((await call({ message: "m", content: "%%%" })).data.message).toBe("content is not valid Base64");
    // Octokit drops null parameters, so this one goes out as another client would send it.
    const nullSha = await fetch(`https://api.github.com/repos/${OWNER}/${REPO}/contents/v.txt`, {
      method: "PUT",
      headers: { authorization: `token ${TOKEN}` },
      body: JSON.stringify({ message: "m", content: base64("x"), sha: null }),
    });
    expect([nullSha.status, ((await nullSha.json()) as { message: string }).message]).toEqual([
      422,
      "Invalid request.\n\nFor 'properties/sha', nil is not a string.",
    ]);
    expect((await send({ message: "m", content: base64("x") })).status).toBe(201);
    expect(fake.requests.map((request) => request.status)).toEqual([422, 422, 422, 201]);
  });

  it("writes to a named branch, and says an unknown one is not found", async () => {
    const fake = useFake();
    fake.seed("README.md", "hi\n", "events");
    await put(octokit(), "e.txt", "e\n", { branch: "events" });
    expect(fake.paths("events")).toEqual(["README.md", "e.txt"]);
    expect(fake.paths()).toEqual([]);

    const unknown = await failure(put(octokit(), "e.txt", "e\n", { branch: "nope" }));
    expect([unknown.status, unknown.data.message]).toEqual([404, "Branch nope not found"]);
  });
});

describe("limits, auth and faults", () => {
  it("answers the secondary-limit 403 with retry-after past 80 writes a minute, as the throttling plugin recognises", async () => {
    let clock = 1_000_000;
    const fake = useFake({ now: () => clock });
    const client = octokit();
    let sha = "";
    for (let index = 0; index < 80; index += 1) {
      sha = (await put(client, "f.txt", `${index}\n`, sha ? { sha } : {})).data.content!.sha!;
      clock += 500;
    }

    const limited = await failure(put(client, "f.txt", "81\n", { sha }));
    expect(limited.status).toBe(403);
    expect(limited.headers["retry-after"]).toBe("60");
    expect(limited.data.message).toMatch(
      /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\./,
    );
    expect(limited.data.documentation_url).toMatch(/#about-secondary-rate-limits$/);

    const seen: number[] = [];
    const Throttled = Octokit.plugin(throttling);
    const throttled = new Throttled({
      auth: TOKEN,
      log: QUIET,
      throttle: {
        onSecondaryRateLimit: (retryAfter: number) => void seen.push(retryAfter),
        onRateLimit: () => false,
        write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
      },
    });
    expect((await failure(put(throttled, "f.txt", "81\n", { sha }))).status).toBe(403);
    expect(seen).toEqual([60]);
    expect(fake.writeCount()).toBe(80);

    // The oldest writes leave the one-minute window: writing works again, reading never stopped.
    expect((await get(client, "f.txt")).status).toBe(200);
    clock += 60_000 - 40 * 500;
    expect((await put(client, "f.txt", "81\n", { sha })).status).toBe(200);
  });

  it("holds every write at the secondary limit for the time asked, with the configured retry-after", async () => {
    let clock = 0;
    const fake = useFake({ now: () => clock, retryAfterSeconds: 42, writesPerHour: 3 });
    fake.secondaryLimitFor(10_000);
    const held = await failure(put(octokit(), "f.txt", "x\n"));
    expect([held.status, held.headers["retry-after"]]).toEqual([403, "42"]);
    clock = 10_000;
    await put(octokit(), "f.txt", "x\n");
    const { sha } = (await get(octokit(), "f.txt")).data as { sha: string };
    await put(octokit(), "f.txt", "y\n", { sha });
    await put(octokit(), "g.txt", "z\n");
    // The hour's budget (3 here) is spent, and refused writes did not count towards it.
    expect((await failure(put(octokit(), "h.txt", "w\n"))).status).toBe(403);
    expect(fake.writeCount()).toBe(3);
  });

  it("sends the primary rate-limit headers, and 403 once the hour's 5000 requests are spent", async () => {
    const fake = new FakeGitHub({ token: TOKEN, now: () => 1_700_000_000_000 });
    const call = () =>
      fake.handle(
        new Request("https://api.github.com/repos/acme/telemetry-data/contents/x", {
          headers: { authorization: `token ${TOKEN}` },
        }),
      );
    const first = await call();
    expect(Object.fromEntries([...first.headers].filter(([name]) => name.startsWith("x-ratelimit-")))).toEqual({
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-reset": String(1_700_000_000 + 3600),
      "x-ratelimit-used": "1",
      "x-ratelimit-resource": "core",
    });
    for (let index = 1; index < 5000; index += 1) await call();
    const spent = await call();
    expect(spent.status).toBe(403);
    expect(spent.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(((await spent.json()) as { message: string }).message).toMatch(/^API rate limit exceeded for user ID 1\./);
  });

  it("refuses content holding a secret with push protection's 409, telling it from a stale sha by its metadata", async () => {
    const fake = useFake({ pushProtection: { example_secret: /SCAN-ME-[0-9]{6}/ } });
    const refused = await failure(put(octokit(), "f.txt", "a line\nkey SCAN-ME-123456\n"));
    expect(refused.status).toBe(409);
    expect(refused.data).toMatchObject({
      message: expect.stringMatching(/^Repository rule violations found/),
      status: "409",
      metadata: {
        secret_scanning: {
          bypass_placeholders: [{ placeholder_id: expect.any(String), token_type: "example_secret" }],
        },
      },
    });
    expect(fake.paths()).toEqual([]);
    expect((await put(octokit(), "f.txt", "a line\n")).status).toBe(201);
  });

  it("says when the token expires on every answer, errors too, when it does", async () => {
    useFake({ tokenExpiresAt: new Date("2026-12-31T00:00:00Z") });
    const answer = await get(octokit(), "").catch(
      (error: { response: { headers: Record<string, string> } }) => error.response,
    );
    expect(answer.headers["github-authentication-token-expiration"]).toBe("2026-12-31 00:00:00 UTC");
    const missing = await failure(get(octokit(), "nope.txt"));
    expect(missing.headers["github-authentication-token-expiration"]).toBe("2026-12-31 00:00:00 UTC");
  });

  it("answers 401 Bad credentials to a wrong token, and takes either auth scheme", async () => {
    useFake();
    const bad = await failure(get(octokit({ auth: "wrong" }), "x"));
    expect(bad.status).toBe(401);
    expect(bad.data).toEqual({
      message: "Bad credentials",
      documentation_url: "https://docs.github.com/rest",
      status: "401",
    });

    for (const authorization of [`Bearer ${TOKEN}`, `token ${TOKEN}`]) {
      const response = await fetch(`https://api.github.com/repos/${OWNER}/${REPO}/contents/`, {
        headers: { authorization },
      });
      expect(response.status).toBe(200);
    }
  });

  it("fails the next calls as asked, changing nothing, then answers normally", async () => {
    const fake = useFake();
    fake.failNext(2, 502);
    expect((await failure(put(octokit(), "f.txt", "x\n"))).status).toBe(502);
    expect((await failure(get(octokit(), "f.txt"))).status).toBe(502);
    expect(fake.paths()).toEqual([]);
    expect((await put(octokit(), "f.txt", "x\n")).status).toBe(201);
  });

  it("answers Not Found for what it does not implement", async () => {
    useFake();
    const other = await failure(octokit().rest.repos.listBranches({ owner: OWNER, repo: REPO }));
    expect([other.status, other.data.message]).toEqual([404, "Not Found"]);
    const tags = await failure(octokit().rest.git.getTag({ owner: OWNER, repo: REPO, tag_sha: "0".repeat(40) }));
    expect([tags.status, tags.data.message]).toEqual([404, "Not Found"]);
  });

  it("describes the repository, with its default branch, even while it is empty", async () => {
    useFake({ defaultBranch: "trunk", empty: true });
    const { data } = await octokit().rest.repos.get({ owner: OWNER, repo: REPO.toUpperCase() });
    expect(data).toMatchObject({ name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: "trunk", private: true });
    expect(data.url).toBe(`https://api.github.com/repos/${OWNER}/${REPO}`);
  });
});
