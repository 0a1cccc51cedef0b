import { randomBytes } from "node:crypto";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  BodyTooLargeError,
  decodeBody,
  MalformedBodyError,
  MAX_DECODED_BYTES,
  UnsupportedEncodingError,
  type BodyLimits,
} from "../lib/http/decode-body.ts";
import seeds from "./fixtures/seed-events.json" with { type: "json" };

const URL = "http://localhost/api/v1/telemetry";
const TEXT = JSON.stringify(seeds);
const LIMITS: BodyLimits = { wireBytes: 4 * 1024, decodedBytes: 64 * 1024 };
const BOMB_BYTES = 200 * 1024 * 1024;
const BOMB_CHUNK_BYTES = 1024;
const CODINGS = [
  { encoding: "gzip", form: "gzip", compress: gzipSync },
  { encoding: "x-gzip", form: "gzip", compress: gzipSync },
  { encoding: "deflate", form: "zlib-wrapped", compress: deflateSync },
  { encoding: "deflate", form: "raw", compress: deflateRawSync },
  { encoding: "br", form: "brotli", compress: brotliCompressSync },
];

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request(URL, { method: "POST", body, headers });
}

/** A request whose body arrives in `chunks`, each read only when asked for, recording how far it was read. */
function upload(chunks: readonly Uint8Array[], headers: Record<string, string> = {}) {
  const seen = { pulls: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[seen.pulls];
        if (chunk === undefined) return controller.close();
        seen.pulls += 1;
        controller.enqueue(chunk);
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { request: new Request(URL, { method: "POST", body, headers, duplex: "half" } as RequestInit), seen };
}

function split(bytes: Uint8Array, size: number): Uint8Array[] {
  return Array.from({ length: Math.ceil(bytes.byteLength / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

async function text(request: Request, limits?: BodyLimits): Promise<string> {
  return Buffer.from(await decodeBody(request, limits)).toString("utf8");
}

async function refusal(request: Request, limits?: BodyLimits): Promise<Error> {
  const error = await decodeBody(request, limits).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof Error)) throw new Error(`Expected the body to be refused, it was not (${String(error)})`);
  return error;
}

describe("decoding a body", () => {
  it("returns an uncompressed body byte for byte", async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    expect(Buffer.from(await decodeBody(post(bytes)))).toEqual(bytes);
    expect(Buffer.from(await decodeBody(post(bytes, { "content-encoding": "identity" })))).toEqual(bytes);
    expect(Buffer.from(await decodeBody(post(bytes, { "content-encoding": "" })))).toEqual(bytes);
  });

  it.each(CODINGS)("decodes $encoding ($form)", async ({ encoding, compress }) => {
    const body = compress(Buffer.from(TEXT));
    expect(await text(post(body, { "content-encoding": encoding }), LIMITS)).toBe(TEXT);
    expect(await text(upload(split(body, 100), { "content-encoding": encoding }).request, LIMITS)).toBe(TEXT);
  });

  it("undoes stacked codings last first, whatever their case, spacing and identity entries", async () => {
    const gzipThenBr = brotliCompressSync(gzipSync(Buffer.from(TEXT)));
    expect(await text(post(gzipThenBr, { "content-encoding": "gzip, br" }), LIMITS)).toBe(TEXT);
    expect(await text(post(gzipThenBr, { "content-encoding": " GZip ,identity,  BR " }), LIMITS)).toBe(TEXT);

    const rawDeflateThenGzip = gzipSync(deflateRawSync(Buffer.from(TEXT)));
    expect(
      await text(upload(split(rawDeflateThenGzip, 1), { "content-encoding": "deflate, gzip" }).request, LIMITS),
    ).toBe(TEXT);
  });

  it("returns an empty body as empty, whatever coding it claims", async () => {
    expect(await decodeBody(post(null))).toHaveLength(0);
    expect(await decodeBody(post(new Uint8Array(0), { "content-encoding": "gzip" }))).toHaveLength(0);
    expect(await decodeBody(upload([], { "content-encoding": "gzip, br" }).request)).toHaveLength(0);
  });

  it("fails with the body's own error when the upload breaks off", async () => {
    const broken = new Error("connection reset");
    const start = gzipSync(Buffer.from(TEXT)).subarray(0, 20);
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        if (pulls === 1) controller.enqueue(start);
        else controller.error(broken);
      },
    });
    const request = new Request(URL, {
      method: "POST",
      body,
      headers: { "content-encoding": "gzip" },
      duplex: "half",
    } as RequestInit);
    expect(await refusal(request, LIMITS)).toBe(broken);
  });
});

describe("refused encodings", () => {
  it.each(["compress", "zstd", "foo", "gzip, zstd"])("refuses %s, naming it and what is supported", async (header) => {
    const error = await refusal(post(Buffer.from(TEXT), { "content-encoding": header }), LIMITS);
    const encoding = header.split(", ").at(-1);
    expect(error).toBeInstanceOf(UnsupportedEncodingError);
    expect(error).toMatchObject({ encoding });
    expect(error.message).toContain(`"${encoding}"`);
    expect(error.message).toContain("gzip, x-gzip, deflate, br");
  });

  it("refuses more than two stacked codings", async () => {
    const body = gzipSync(brotliCompressSync(gzipSync(Buffer.from(TEXT))));
    const error = await refusal(post(body, { "content-encoding": "gzip, br, gzip" }), LIMITS);
    expect(error).toBeInstanceOf(UnsupportedEncodingError);
    expect(error.message).toContain("at most 2");
  });
});

describe("the limit on bytes sent", () => {
  const atLimit = Buffer.alloc(LIMITS.wireBytes, "a");
  const overLimit = Buffer.alloc(LIMITS.wireBytes + 1, "a");

  it("takes a declared length up to the limit and refuses one past it without reading the body", async () => {
    expect(await decodeBody(post(atLimit, { "content-length": String(atLimit.byteLength) }), LIMITS)).toHaveLength(
      LIMITS.wireBytes,
    );

    const request = post(overLimit, { "content-length": String(overLimit.byteLength) });
    const error = await refusal(request, LIMITS);
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(error).toMatchObject({ limit: "wire_bytes", maxBytes: LIMITS.wireBytes });
    expect(error.message).toContain(`${LIMITS.wireBytes} bytes`);
    expect(request.bodyUsed).toBe(false);
  });

  it("takes a streamed body up to the limit and refuses one past it", async () => {
    expect(await decodeBody(upload(split(atLimit, 1000)).request, LIMITS)).toHaveLength(LIMITS.wireBytes);

    const { request, seen } = upload(split(overLimit, 1000));
    expect(await refusal(request, LIMITS)).toMatchObject({ limit: "wire_bytes", maxBytes: LIMITS.wireBytes });
    expect(seen.cancelled).toBe(true);
  });

  it("stops reading a long upload, compressed or not, once it is past the limit", async () => {
    const payload = randomBytes(LIMITS.wireBytes * 100);
    for (const [body, headers] of [
      [payload, {}],
      [gzipSync(payload), { "content-encoding": "gzip" }],
    ] as const) {
      const chunks = split(body, 1000);
      const { request, seen } = upload(chunks, headers);
      expect(await refusal(request, LIMITS)).toMatchObject({ limit: "wire_bytes" });
      expect(seen.pulls).toBe(Math.ceil((LIMITS.wireBytes + 1) / 1000));
      expect(seen.cancelled).toBe(true);
    }
  });
});

describe("the limit on decoded bytes", () => {
  it.each([
    ["gzip", gzipSync],
    ["br", brotliCompressSync],
  ])("takes %s that decodes to exactly the limit and refuses one byte more", async (encoding, compress) => {
    const atLimit = compress(Buffer.alloc(LIMITS.decodedBytes, "a"));
    expect(await decodeBody(post(atLimit, { "content-encoding": encoding }), LIMITS)).toHaveLength(LIMITS.decodedBytes);

    const error = await refusal(
      post(compress(Buffer.alloc(LIMITS.decodedBytes + 1, "a")), { "content-encoding": encoding }),
      LIMITS,
    );
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(error).toMatchObject({ limit: "decoded_bytes", maxBytes: LIMITS.decodedBytes });
    expect(error.message).toContain(`${LIMITS.decodedBytes} bytes once decompressed`);
  });

  it("refuses a decompression bomb after reading only the start of it", async () => {
    const chunks = split(gzipSync(Buffer.alloc(BOMB_BYTES)), BOMB_CHUNK_BYTES);
    const { request, seen } = upload(chunks, { "content-encoding": "gzip" });
    expect(await refusal(request)).toMatchObject({ limit: "decoded_bytes", maxBytes: MAX_DECODED_BYTES });
    expect(seen.pulls).toBeLessThan(chunks.length / 10);
    expect(seen.cancelled).toBe(true);
  });
});

describe("corrupt compressed data", () => {
  it("refuses gzip whose header is followed by garbage, naming the coding", async () => {
    const body = Buffer.concat([gzipSync(Buffer.from(TEXT)).subarray(0, 10), Buffer.alloc(200, 0xff)]);
    const error = await refusal(post(body, { "content-encoding": "gzip" }), LIMITS);
    expect(error).toBeInstanceOf(MalformedBodyError);
    expect(error.message).toContain("gzip");
  });

  it.each(CODINGS)("refuses $encoding ($form) cut short", async ({ encoding, compress }) => {
    const whole = compress(Buffer.from(TEXT));
    const cut = split(whole.subarray(0, whole.byteLength - 8), 100);
    const error = await refusal(upload(cut, { "content-encoding": encoding }).request, LIMITS);
    expect(error).toBeInstanceOf(MalformedBodyError);
    expect(error.message).toContain(encoding);
  });
});
