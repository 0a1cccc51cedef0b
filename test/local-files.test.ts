import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalFiles } from "../lib/storage/local/local-files.ts";

const OPTIONS = { deadline: Number.MAX_SAFE_INTEGER };

let dir: string;
let files: LocalFiles;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-files-"));
  files = new LocalFiles(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file under the folder, by path, as a user would see it there. */
async function tree(): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe("LocalFiles", () => {
  it("writes many files, creating their folders, and lists and reads them as GitHub would", async () => {
    const result = await files.commitFiles(
      [
        { path: "insights/index.json", content: "[]\n" },
        { path: "insights/2026/11/22.json", content: '{"events":3}\n' },
        { path: "README.md", content: "data\n" },
      ],
      "Publish",
      OPTIONS,
    );
    expect(result).toEqual({ commit: expect.stringMatching(/^[0-9a-f]{12}$/), writes: 0 });
    expect(await tree()).toEqual(["README.md", "insights/2026/11/22.json", "insights/index.json"]);

    expect(await files.list("", OPTIONS)).toEqual([
      { path: "README.md", name: "README.md", type: "file", sha: "", size: 5 },
      { path: "insights", name: "insights", type: "dir", sha: "", size: 0 },
    ]);
    expect(await files.list("insights", OPTIONS)).toEqual([
      { path: "insights/2026", name: "2026", type: "dir", sha: "", size: 0 },
      { path: "insights/index.json", name: "index.json", type: "file", sha: "", size: 3 },
    ]);
    expect((await files.read("insights/2026/11/22.json", OPTIONS))?.toString()).toBe('{"events":3}\n');
    expect(await files.read("insights/none.json", OPTIONS)).toBeUndefined();
    expect(await files.read("README.md/inside", OPTIONS)).toBeUndefined();
    expect(files.describe()).toBe(dir);
  });

  it("reports no commit when every file already holds its content and nothing is there to remove", async () => {
    await files.commitFiles([{ path: "a.json", content: "1\n" }], "First", OPTIONS);
    expect(
      await files.commitFiles(
        [
          { path: "a.json", content: "1\n" },
          { path: "gone.json", content: null },
        ],
        "Same",
        OPTIONS,
      ),
    ).toEqual({ commit: undefined, writes: 0 });
    expect((await files.commitFiles([{ path: "a.json", content: "2\n" }], "Changed", OPTIONS)).commit).toBeDefined();
    expect((await readFile(join(dir, "a.json"))).toString()).toBe("2\n");
  });

  it("removes files, and the folders they leave empty, but never the folder itself", async () => {
    await files.commitFiles(
      [
        { path: "telemetry/2026/11/22/0001.ndjson", content: "{}\n" },
        { path: "telemetry/2026/11/23/0001.ndjson", content: "{}\n" },
        { path: "top.json", content: "{}\n" },
      ],
      "Seed",
      OPTIONS,
    );
    const result = await files.commitFiles(
      [
        { path: "telemetry/2026/11/22/0001.ndjson", content: null },
        { path: "top.json", content: null },
      ],
      "Remove",
      OPTIONS,
    );
    expect(result.commit).toBeDefined();
    expect(await tree()).toEqual(["telemetry/2026/11/23/0001.ndjson"]);
    expect(await readdir(join(dir, "telemetry/2026/11"))).toEqual(["23"]);

    await files.commitFiles([{ path: "telemetry/2026/11/23/0001.ndjson", content: null }], "Remove all", OPTIONS);
    expect(await readdir(dir)).toEqual([]);
    expect(await files.list("", OPTIONS)).toEqual([]);
  });

  it("replaces a file whole: a reader that opened it before still reads the old bytes, and no temporary file is left", async () => {
    await files.commitFiles([{ path: "day.ndjson", content: "old\n" }], "First", OPTIONS);
    const reader = await open(join(dir, "day.ndjson"));
    try {
      await files.commitFiles([{ path: "day.ndjson", content: "new and longer\n" }], "Second", OPTIONS);
      expect((await reader.readFile()).toString()).toBe("old\n");
    } finally {
      await reader.close();
    }
    expect((await files.read("day.ndjson", OPTIONS))?.toString()).toBe("new and longer\n");
    expect(await readdir(dir)).toEqual(["day.ndjson"]);
  });

  it("lists [] for a missing folder, and leaves out git's folder, folders without files and unfinished writes", async () => {
    expect(await files.list("nope/deeper", OPTIONS)).toEqual([]);
    await mkdir(join(dir, ".git/objects"), { recursive: true });
    await writeFile(join(dir, ".git/HEAD"), "ref: refs/heads/main\n");
    await mkdir(join(dir, "empty/still-empty"), { recursive: true });
    await writeFile(join(dir, ".a.json.0123456789ab.tmp"), "half");
    await writeFile(join(dir, "a.json"), "{}\n");
    expect((await files.list("", OPTIONS)).map((entry) => entry.path)).toEqual(["a.json"]);
  });

  it("takes the last change to a path, and refuses paths that lead out of the folder", async () => {
    await files.commitFiles(
      [
        { path: "a.json", content: "1\n" },
        { path: "a.json", content: "2\n" },
      ],
      "Twice",
      OPTIONS,
    );
    expect((await readFile(join(dir, "a.json"))).toString()).toBe("2\n");
    await expect(files.commitFiles([{ path: "../escape.json", content: "x" }], "Out", OPTIONS)).rejects.toThrow(
      /outside/,
    );
    await expect(files.read("../../etc/passwd", OPTIONS)).rejects.toThrow(/outside/);
    await expect(files.list("..", OPTIONS)).rejects.toThrow(/outside/);
  });

  it("reads every file under a folder with its bytes, nested and over 1 MB, in path order, with no head", async () => {
    const big = Buffer.alloc(1_500_000, 0xab);
    await mkdir(join(dir, "telemetry/2026/11/22"), { recursive: true });
    await mkdir(join(dir, "telemetry/2026/11/23"), { recursive: true });
    await mkdir(join(dir, "telemetry2"), { recursive: true });
    await writeFile(join(dir, "telemetry/2026/11/22/0002.ndjson"), "2\n");
    await writeFile(join(dir, "telemetry/2026/11/22/0001.ndjson"), big);
    await writeFile(join(dir, "telemetry/2026/11/22/.0003.ndjson.0123456789ab.tmp"), "half");
    await writeFile(join(dir, "telemetry/2026/11/23/0001.ndjson"), "3\n");
    await writeFile(join(dir, "telemetry/2026.json"), "{}\n");
    await writeFile(join(dir, "telemetry2/elsewhere.ndjson"), "x\n");
    await mkdir(join(dir, ".git"), { recursive: true });
    await writeFile(join(dir, ".git/HEAD"), "ref: refs/heads/main\n");
    await writeFile(join(dir, "README.md"), "data\n");

    const seen: [string, Buffer][] = [];
    const result = await files.readTree("/telemetry/", (path, bytes) => void seen.push([path, bytes]), OPTIONS);
    expect(result).toEqual({ head: undefined });
    // Bytewise, as git orders paths: "2026.json" before the folder "2026".
    expect(seen.map(([path]) => path)).toEqual([
      "telemetry/2026.json",
      "telemetry/2026/11/22/0001.ndjson",
      "telemetry/2026/11/22/0002.ndjson",
      "telemetry/2026/11/23/0001.ndjson",
    ]);
    expect(seen[1]![1].equals(big)).toBe(true);
    expect(seen[2]![1].toString()).toBe("2\n");

    const all: string[] = [];
    await files.readTree("", async (path) => void all.push(path), OPTIONS);
    expect(all).toEqual(["README.md", ...seen.map(([path]) => path), "telemetry2/elsewhere.ndjson"]);
    const none: string[] = [];
    await files.readTree("nope", (path) => void none.push(path), OPTIONS);
    expect(none).toEqual([]);
    await expect(files.readTree("..", () => {}, OPTIONS)).rejects.toThrow(/outside/);
  });

  it("commits whatever head it is told to expect: a folder has no commits to have moved", async () => {
    const { head } = await files.readTree("", () => {}, OPTIONS);
    await writeFile(join(dir, "other.json"), "{}\n");
    const result = await files.commitFiles([{ path: "a.json", content: "1\n" }], "Write", {
      ...OPTIONS,
      expectedHead: head ?? "0".repeat(40),
    });
    expect(result.commit).toBeDefined();
    expect(await tree()).toEqual(["a.json", "other.json"]);
  });
});
