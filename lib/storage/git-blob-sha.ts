import { createHash } from "node:crypto";

/** The git blob id of `bytes`, which is what GitHub calls a file's sha. */
export function gitBlobSha(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.byteLength}\0`).update(bytes).digest("hex");
}

/** The bytes of a raw-media-type answer, which Octokit gives as a string or a buffer, to check with gitBlobSha. */
export function toBuffer(data: unknown): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new Error("unexpected raw content");
}
