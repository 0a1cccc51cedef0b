import { gunzipSync } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { describe, expect, it } from "vitest";
import { FakeGitHub, serveFakeGitHub } from "../support/fake-github/index.ts";
import { TOKEN, OWNER, REPO, GHES, SHA, useFake, octokit, failure, put, get, server, useMsw } from "./client.ts";

useMsw();

describe("the tarball archive", () => {
  const repo = { owner: OWNER, repo: REPO };
  const LARGE = 1_500_000;

  /** Every entry of a gzipped tarball, in order, with the bytes of each file. */
  async function entriesOf(archive: ArrayBuffer | Uint8Array): Promise<{ header: Header; bytes: Buffer }[]> {
    const reading = extract();
    const entries: { header: Header; bytes: Buffer }[] = [];
    reading.end(gunzipSync(archive));
    for await (const entry of reading) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.push({ header: entry.header, bytes: Buffer.concat(chunks) });
    }
    return entries;
  }

  const tarball = (ref: string, client = octokit()) => client.rest.repos.downloadTarballArchive({ ...repo, ref });

  it("redirects to codeload with a token, which answers the commit's tree in {owner}-{repo}-{sha7}/, folders first", async () => {
    const fake = useFake();
    fake.seed("b.txt", "bee\n");
    fake.seed("a/c/d.txt", "two\n");
    fake.seed("a/b.txt", "one\n");
    fake.seed("a.txt", Buffer.alloc(LARGE, 7));
    const head = fake.commits.at(-1)!.sha;
    const top = `${OWNER}-${REPO}-${head.slice(0, 7)}`;

    const redirect = await fetch(`https://api.github.com/repos/${OWNER}/${REPO}/tarball/main`, {
      headers: { authorization: `token ${TOKEN}` },
      redirect: "manual",
    });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(
      `https://api.github.com/_codeload/${OWNER}/${REPO}/legacy.tar.gz/refs/heads/main`,
    );
    expect(location.searchParams.get("token")).toMatch(/^[0-9A-F]{40}$/);

    const { status, data, headers } = await tarball("main");
    expect(status).toBe(200);
    expect(headers["content-type"]).toBe("application/x-gzip");
    expect(headers["content-disposition"]).toBe(`attachment; filename=${top}.tar.gz`);
    const entries = await entriesOf(data as ArrayBuffer);
    expect(entries.map(({ header }) => `${header.type} ${header.name}`)).toEqual([
      `directory ${top}/`,
      // Git's order: "a.txt" before the folder "a", which sorts as "a/".
      `file ${top}/a.txt`,
      `directory ${top}/a/`,
      `file ${top}/a/b.txt`,
      `directory ${top}/a/c/`,
      `file ${top}/a/c/d.txt`,
      `file ${top}/b.txt`,
    ]);
    expect(entries.find(({ header }) => header.name.endsWith("/a.txt"))!.bytes.equals(Buffer.alloc(LARGE, 7))).toBe(
      true,
    );
    expect(entries.find(({ header }) => header.name.endsWith("/a/c/d.txt"))!.bytes.toString()).toBe("two\n");
    expect(fake.requests).toMatchObject([
      { method: "GET", path: `/repos/${OWNER}/${REPO}/tarball/main`, status: 302 },
      { method: "GET", path: `/repos/${OWNER}/${REPO}/tarball/main`, status: 302 },
      { method: "GET", path: `/_codeload/${OWNER}/${REPO}/legacy.tar.gz/refs/heads/main`, status: 200 },
    ]);
    // What was downloaded: nothing with the redirect, the archive's bytes with codeload's answer.
    expect(fake.requests.map((request) => request.bytes > 0)).toEqual([false, false, true]);
    expect(fake.writeCount()).toBe(0);
  });

  it("gives an older commit's tree by its sha, and a path longer than tar's 100 bytes whole", async () => {
    const fake = useFake();
    const deep = `${"folder-with-a-long-name/".repeat(6)}file.ndjson`;
    fake.seed(deep, "old\n");
    const old = fake.commits.at(-1)!.sha;
    fake.seed(deep, "new\n");
    fake.seed("later.txt", "later\n");

    const { data } = await tarball(old);
    const files = (await entriesOf(data as ArrayBuffer)).filter(({ header }) => header.type === "file");
    expect(files.map(({ header, bytes }) => [header.name, bytes.toString()])).toEqual([
      [`${OWNER}-${REPO}-${old.slice(0, 7)}/${deep}`, "old\n"],
    ]);
    expect(fake.requests.at(-1)!.path).toBe(`/_codeload/${OWNER}/${REPO}/legacy.tar.gz/${old}`);
  });

  it("says Not Found for an unknown ref, an empty repository, and codeload without a good token", async () => {
    const fake = useFake();
    for (const ref of ["nope", "f".repeat(40)]) {
      expect((await failure(tarball(ref))).data).toEqual({
        message: "Not Found",
        documentation_url: "https://docs.github.com/rest/repos/contents#download-a-repository-archive-tar",
        status: "404",
      });
    }
    const codeload = `https://api.github.com/_codeload/${OWNER}/${REPO}/legacy.tar.gz/refs/heads/main`;
    for (const url of [codeload, `${codeload}?token=WRONG`]) {
      const response = await fetch(url);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe("404: Not Found");
    }
    expect(fake.requests.map((request) => request.status)).toEqual([404, 404, 404, 404]);

    useFake({ empty: true });
    expect((await failure(tarball("main"))).status).toBe(404);
  });

  it("serves codeload beside GitHub Enterprise Server's /api/v3 root, and over loopback", async () => {
    const ghes = useFake({}, GHES);
    ghes.seed("e.txt", "ghes\n");
    const { data } = await tarball("main", octokit({ baseUrl: GHES }));
    expect((await entriesOf(data as ArrayBuffer)).at(-1)!.bytes.toString()).toBe("ghes\n");
    expect(ghes.requests.at(-1)!.path).toBe(`/_codeload/${OWNER}/${REPO}/legacy.tar.gz/refs/heads/main`);

    const fake = new FakeGitHub({ owner: OWNER, repo: REPO, token: TOKEN });
    fake.seed("served.txt", "loopback\n");
    const served = await serveFakeGitHub(fake);
    server.close(); // let requests reach the network instead of msw
    try {
      const loopback = await tarball("main", octokit({ baseUrl: served.url }));
      expect((await entriesOf(loopback.data as ArrayBuffer)).at(-1)!.bytes.toString()).toBe("loopback\n");
      expect(fake.requests.map((request) => request.status)).toEqual([302, 200]);
    } finally {
      await served.close();
      server.listen({ onUnhandledRequest: "error" });
    }
  });
});

describe("other API roots", () => {
  it("serves GitHub Enterprise Server's /api/v3 root through msw", async () => {
    const fake = useFake({}, GHES);
    const client = octokit({ baseUrl: GHES });
    const { data } = await put(client, "e.txt", "ghes\n");
    expect(data.content!.url).toBe(`${GHES}/repos/${OWNER}/${REPO}/contents/e.txt?ref=main`);
    expect(fake.file("e.txt")).toBe("ghes\n");
    expect(fake.requests).toMatchObject([
      { method: "PUT", path: `/repos/${OWNER}/${REPO}/contents/e.txt`, status: 201 },
    ]);
  });

  it("serves the API over HTTP on loopback for another process", async () => {
    const fake = new FakeGitHub({ owner: OWNER, repo: REPO, token: TOKEN, empty: true, latencyMs: [1, 5] });
    const served = await serveFakeGitHub(fake);
    server.close(); // let requests reach the network instead of msw
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const client = octokit({ baseUrl: served.url });
      const created = await put(client, "dir/f.ndjson", "1\n");
      expect(created.status).toBe(201);
      const read = (await get(client, "dir/f.ndjson")).data as { sha: string; content: string };
      expect(read.sha).toMatch(SHA);
      expect(Buffer.from(read.content, "base64").toString()).toBe("1\n");
      const raw = await client.rest.repos.getContent({
        owner: OWNER,
        repo: REPO,
        path: "dir/f.ndjson",
        mediaType: { format: "raw" },
      });
      expect(raw.data as unknown).toBe("1\n");
      expect((await failure(get(octokit({ auth: "wrong", baseUrl: served.url }), "x"))).status).toBe(401);
    } finally {
      await served.close();
      server.listen({ onUnhandledRequest: "error" });
    }
  });
});
