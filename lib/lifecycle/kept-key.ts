import { randomBytes } from "node:crypto";
import type { BlobStore } from "../spool/blob-store.ts";

const KEYS_PREFIX = "keys/";
const KEY_BYTES = 32;

/**
 * A secret made once and kept in the spool's Netlify Blobs under `keys/<name>`, for a keyed hash
 * that must stay the same for as long as what it names is kept: unlike the jobs' key, derived from
 * a GitHub credential that is renewed, it never changes. The first instance to need it writes it
 * (only if none is there); every other reads that one. Read once an instance.
 */
export function keptKey(blobs: BlobStore, name: string): () => Promise<string> {
  let key: Promise<string> | undefined;
  const read = async (): Promise<string> => {
    const path = `${KEYS_PREFIX}${name}`;
    const valueOf = async () => {
      const kept = (await blobs.get(path, { type: "json" })) as { key?: unknown } | null;
      return typeof kept?.key === "string" ? kept.key : undefined;
    };
    const found = await valueOf();
    if (found !== undefined) return found;
    await blobs.setJSON(path, { key: randomBytes(KEY_BYTES).toString("hex") }, { onlyIfNew: true });
    const made = await valueOf();
    if (made === undefined) throw new Error(`the key ${path} could not be kept in Netlify Blobs`);
    return made;
  };
  return () =>
    (key ??= read().catch((error: unknown) => {
      key = undefined;
      throw error;
    }));
}
