import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { systemClock } from "../lib/clock.ts";
import { gitBlobSha } from "../lib/storage/git-blob-sha.ts";
import type { RepositoryEntry, RepositoryFiles } from "../lib/storage/repository-files.ts";
import { pullRepository } from "../cli/pull-repository.ts";
import { describe, expect, test } from "./support/fixtures.ts";

/** A repository whose listings say what a test needs, however odd: paths as GitHub would never list them, too. */
function repositoryOf(files: Record<string, string>): RepositoryFiles {
  const entries = (dir: string): RepositoryEntry[] => {
    const below = Object.keys(files).filter((path) => dir === "" || path.startsWith(`${dir}/`));
    const names = new Map<string, RepositoryEntry>();
    for (const path of below) {
      const rest = dir === "" ? path : path.slice(dir.length + 1);
      const [name, ...deeper] = rest.split("/");
      const full = dir === "" ? name! : `${dir}/${name}`;
      names.set(name!, {
        path: deeper.length > 0 ? full : path,
        name: deeper.length > 0 ? name! : rest,
        type: deeper.length > 0 ? "dir" : "file",
        sha: deeper.length > 0 ? "" : gitBlobSha(Buffer.from(files[path]!)),
        size: 0,
      });
    }
    return [...names.values()];
  };
  const repository = {
    describe: () => "acme/data@main",
    list: async (dir: string) => entries(dir),
    read: async (path: string) => (path in files ? Buffer.from(files[path]!) : undefined),
    readFiles: async (wanted: readonly { path: string }[], visit: (path: string, bytes: Buffer) => Promise<void>) => {
      for (const { path } of wanted) {
        const bytes = await repository.read(path);
        if (bytes) await visit(path, bytes);
      }
    },
  };
  return repository as unknown as RepositoryFiles;
}

const pull = (files: Record<string, string>, to: string, folders: string[]) =>
  pullRepository(repositoryOf(files), to, { folders, clock: systemClock });

describe("telemetry pull's files", () => {
  test("refuses a listed path that resolves outside --to, naming it, and writes nothing there", async ({ tempDir }) => {
    const root = await tempDir("pull-escape-");
    const to = join(root, "a", "b");
    const evil = "telemetry/../../../x.json";
    // A listing is GitHub's word: a stand-in for a hostile or broken one lists the path whole.
    const remote = repositoryOf({ "telemetry/2026/11/22/0001.ndjson": "{}\n" });
    const list = remote.list.bind(remote);
    remote.list = async (dir, options) => [
      ...(await list(dir, options)),
      ...(dir === "telemetry" ? [{ path: evil, name: "x.json", type: "file" as const, sha: "0", size: 3 }] : []),
    ];
    remote.read = async () => Buffer.from("{}\n");
    await expect(pullRepository(remote, to, { folders: ["telemetry"], clock: systemClock })).rejects.toThrow(evil);
    await expect(stat(join(root, "x.json"))).rejects.toThrow();
  });

  test("with the prefix at the root, removes only files pull itself wrote, never the folder's own", async ({
    tempDir,
  }) => {
    const to = await tempDir("pull-root-");
    await mkdir(join(to, "node_modules", "zod"), { recursive: true });
    await writeFile(join(to, "package.json"), "{}\n");
    await writeFile(join(to, "node_modules", "zod", "package.json"), "{}\n");
    const first = await pull({ "2026/11/22/0001.ndjson": "{}\n", "2026/11/22/0002.ndjson": "{}\n" }, to, [""]);
    expect(first).toMatchObject({ downloaded: 2, removed: 0 });
    const second = await pull({ "2026/11/22/0001.ndjson": "{}\n" }, to, [""]);
    expect(second).toMatchObject({ downloaded: 0, unchanged: 1, removed: 1 });
    await expect(stat(join(to, "2026/11/22/0002.ndjson"))).rejects.toThrow();
    expect(await readFile(join(to, "package.json"), "utf8")).toBe("{}\n");
    expect(await readFile(join(to, "node_modules", "zod", "package.json"), "utf8")).toBe("{}\n");
  });
});
