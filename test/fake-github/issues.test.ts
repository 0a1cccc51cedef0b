import { describe, expect, it } from "vitest";
import { OWNER, REPO, failure, octokit, useFake, useMsw } from "./client.ts";

useMsw();

describe("the Issues API", () => {
  const repo = { owner: OWNER, repo: REPO };

  it("creates an issue (201, its label made on first use), lists it by label and state in pages, and closes and reopens it", async () => {
    const fake = useFake();
    const client = octokit();
    fake.issues.seedPullRequest("A pull request", ["alert"]);
    for (const n of [1, 2, 3]) {
      const created = await client.rest.issues.create({ ...repo, title: `issue ${n}`, body: "b", labels: ["alert"] });
      expect(created.status).toBe(201);
      expect(created.data).toMatchObject({ number: n + 1, state: "open", state_reason: null, closed_at: null });
      expect(created.data.labels).toMatchObject([{ name: "alert" }]);
    }
    expect([...fake.issues.labels]).toEqual(["alert"]);

    const page = await client.rest.issues.listForRepo({ ...repo, labels: "alert", state: "all", per_page: 2 });
    expect(page.data.map((i) => i.number)).toEqual([4, 3]);
    expect(page.headers.link).toMatch(/[?&]page=2[^>]*>; rel="next"/);
    const all = await client.paginate(client.rest.issues.listForRepo, {
      ...repo,
      labels: "alert",
      state: "all",
      per_page: 2,
    });
    expect(all.map((i) => [i.number, Boolean(i.pull_request)])).toEqual([
      [4, false],
      [3, false],
      [2, false],
      [1, true],
    ]);

    const closed = await client.rest.issues.update({
      ...repo,
      issue_number: 2,
      state: "closed",
      state_reason: "completed",
    });
    expect(closed.data).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(closed.data.closed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await client.rest.issues.listForRepo({ ...repo, state: "open" })).data.map((i) => i.number)).toEqual([
      4, 3, 1,
    ]);
    const reopened = await client.rest.issues.update({ ...repo, issue_number: 2, state: "open" });
    expect(reopened.data).toMatchObject({ state: "open", state_reason: "reopened", closed_at: null });

    const comment = await client.rest.issues.createComment({ ...repo, issue_number: 2, body: "hello" });
    expect(comment.status).toBe(201);
    expect((await client.rest.issues.listComments({ ...repo, issue_number: 2 })).data.map((c) => c.body)).toEqual([
      "hello",
    ]);
  });

  it("answers 404 for an unknown issue, 422 for a bad body, and 403 to a credential without the permission", async () => {
    useFake();
    const client = octokit();
    expect((await failure(client.rest.issues.get({ ...repo, issue_number: 9 }))).status).toBe(404);
    expect((await failure(client.rest.issues.createComment({ ...repo, issue_number: 9, body: "x" }))).status).toBe(404);
    const untitled = await failure(
      client.request("POST /repos/{owner}/{repo}/issues", { ...repo, body: "no title" } as never),
    );
    expect(untitled).toMatchObject({ status: 422, data: { message: `Invalid request.\n\n"title" wasn't supplied.` } });
    await client.rest.issues.create({ ...repo, title: "t" });
    const badState = await failure(
      client.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
        ...repo,
        issue_number: 1,
        state: "gone",
      } as never),
    );
    expect(badState).toMatchObject({ status: 422, data: { message: "Validation Failed" } });
    const long = await failure(client.rest.issues.create({ ...repo, title: "t", body: "x".repeat(65_537) }));
    expect(long.status).toBe(422);

    useFake({ issues: "read" });
    expect((await octokit().rest.issues.listForRepo(repo)).status).toBe(200);
    const refused = await failure(octokit().rest.issues.create({ ...repo, title: "t" }));
    expect(refused).toMatchObject({
      status: 403,
      data: { message: "Resource not accessible by personal access token" },
    });
    useFake({ issues: "none" });
    expect((await failure(octokit().rest.issues.listForRepo(repo))).status).toBe(403);
  });

  it("counts issues and comments as content creation: past the secondary limit, 403 with retry-after", async () => {
    useFake({ writesPerMinute: 2, retryAfterSeconds: 30 });
    const client = octokit();
    await client.rest.issues.create({ ...repo, title: "one" });
    await client.rest.issues.createComment({ ...repo, issue_number: 1, body: "two" });
    const limited = await failure(client.rest.issues.create({ ...repo, title: "three" }));
    expect(limited.status).toBe(403);
    expect(limited.message).toMatch(/You have exceeded a secondary rate limit/);
    expect(limited.headers["retry-after"]).toBe("30");
  });
});
