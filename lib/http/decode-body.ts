import type { Transform } from "node:stream";
import { InputError } from "../events/input-error.ts";
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from "node:zlib";

export const MAX_WIRE_BYTES = 1024 * 1024;
export const MAX_DECODED_BYTES = 5 * 1024 * 1024;
/** More stacked codings than this only serve to multiply the work a small body costs. */
const MAX_CODINGS = 2;
/** How much a decoder produces per step: how far past the decoded cap it can get before it is stopped. */
const DECODER_CHUNK_BYTES = 16 * 1024;
/** A zlib header is two bytes; deflate is told apart from raw deflate by them. */
const SNIFF_BYTES = 2;

const DECODERS = {
  gzip: () => createGunzip({ chunkSize: DECODER_CHUNK_BYTES }),
  "x-gzip": () => createGunzip({ chunkSize: DECODER_CHUNK_BYTES }),
  deflate: (head: Uint8Array) =>
    isZlibHeader(head)
      ? createInflate({ chunkSize: DECODER_CHUNK_BYTES })
      : createInflateRaw({ chunkSize: DECODER_CHUNK_BYTES }),
  br: () => createBrotliDecompress({ chunkSize: DECODER_CHUNK_BYTES }),
} satisfies Record<string, (head: Uint8Array) => Transform>;
type Coding = keyof typeof DECODERS;
const SUPPORTED = [...Object.keys(DECODERS), "identity"];

export interface BodyLimits {
  wireBytes: number;
  decodedBytes: number;
}
export type BodyLimitName = "wire_bytes" | "decoded_bytes";

/** The body is over one of the limits. */
export class BodyTooLargeError extends InputError {
  override name = "BodyTooLargeError";
  constructor(
    readonly limit: BodyLimitName,
    readonly maxBytes: number,
  ) {
    super(
      413,
      "payload_too_large",
      `Request body is over the limit of ${maxBytes} bytes ${limit === "wire_bytes" ? "as sent" : "once decompressed"}`,
      { limit, max_bytes: maxBytes },
    );
  }
}

/** The Content-Encoding is not one this service decodes. */
export class UnsupportedEncodingError extends InputError {
  override name = "UnsupportedEncodingError";
  constructor(
    readonly encoding: string,
    message = `Content-Encoding "${encoding}" is not supported; use ${SUPPORTED.join(", ")}`,
  ) {
    super(415, "unsupported_encoding", message);
  }
}

/** The compressed data is corrupt or cut short. */
export class MalformedBodyError extends InputError {
  override name = "MalformedBodyError";
  constructor(message: string, options?: ErrorOptions) {
    super(400, "malformed_body", message, {}, options);
  }
}

/**
 * The request body, decoded; throws one of the errors above. The body is read as a stream and
 * decompressed only as fast as its output is taken, so no client can make the function hold or
 * inflate much more than the limits: reading stops as soon as either is passed.
 */
export async function decodeBody(
  request: Request,
  limits: BodyLimits = { wireBytes: MAX_WIRE_BYTES, decodedBytes: MAX_DECODED_BYTES },
): Promise<Uint8Array> {
  const codings = parseContentEncoding(request.headers.get("content-encoding"));
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > limits.wireBytes) throw new BodyTooLargeError("wire_bytes", limits.wireBytes);
  if (!request.body) return new Uint8Array(0);

  let chunks = capped(bodyChunks(request.body), "wire_bytes", limits.wireBytes);
  // The sender applied the codings in the order listed, so they come off last first. Each one's
  // output is capped, not only the last: an inner stream that decodes to little (empty gzip
  // members, say) could otherwise hide an outer one inflated without bound.
  for (const coding of codings.toReversed())
    chunks = capped(decode(chunks, coding), "decoded_bytes", limits.decodedBytes);
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** The codings a Content-Encoding lists, in the order the sender applied them, without `identity`. */
function parseContentEncoding(header: string | null): Coding[] {
  const tokens = (header ?? "")
    .split(",")
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== "" && token !== "identity");
  for (const token of tokens) if (!Object.hasOwn(DECODERS, token)) throw new UnsupportedEncodingError(token);
  if (tokens.length > MAX_CODINGS) {
    throw new UnsupportedEncodingError(
      header ?? "",
      `Content-Encoding "${header}" stacks ${tokens.length} codings; at most ${MAX_CODINGS} are supported`,
    );
  }
  return tokens as Coding[];
}

function isZlibHeader([cmf, flg]: Uint8Array): boolean {
  return cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
}

async function* bodyChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value.byteLength > 0) yield value;
    }
  } finally {
    // Stops the upload when decoding ends early; a body that ended or failed already ignores it.
    reader.cancel().catch(() => {});
  }
}

async function* capped(
  source: AsyncIterable<Uint8Array>,
  limit: BodyLimitName,
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new BodyTooLargeError(limit, maxBytes);
    yield chunk;
  }
}

/**
 * Undoes one coding, in lockstep with whoever takes its output: an input chunk is handed to the
 * decoder only once it has used up the last one, and zlib stops inflating while its output sits
 * unread, so a bomb is inflated only as far as it is read.
 */
async function* decode(source: AsyncIterable<Uint8Array>, coding: Coding): AsyncGenerator<Uint8Array> {
  const input = source[Symbol.asyncIterator]();
  const head = await readHead(input);
  // An empty body stays empty whatever its declared coding.
  if (head.bytes.byteLength === 0) return;

  const decoder = DECODERS[coding](head.bytes);
  let wake = () => {};
  const notify = () => wake();
  // Listening to "error" also keeps it from escaping as an unhandled event.
  decoder.on("readable", notify).on("end", notify).on("error", notify);
  let inputDone = head.done;
  try {
    decoder.write(head.bytes, notify);
    if (inputDone) decoder.end();
    for (;;) {
      if (decoder.errored) {
        throw new MalformedBodyError(`Request body is not valid ${coding} data: ${decoder.errored.message}`, {
          cause: decoder.errored,
        });
      }
      const output = decoder.read() as Buffer | null;
      if (output !== null) {
        yield output;
        continue;
      }
      if (decoder.readableEnded) return;
      if (!inputDone && decoder.writableLength === 0) {
        const next = await input.next();
        inputDone = next.done === true;
        if (next.done) decoder.end();
        else decoder.write(next.value, notify);
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    decoder.destroy();
    await input.return?.();
  }
}

/** At least the first `SNIFF_BYTES` of the input (fewer only if that is all there is). */
async function readHead(input: AsyncIterator<Uint8Array>): Promise<{ bytes: Uint8Array; done: boolean }> {
  const parts: Uint8Array[] = [];
  let length = 0;
  while (length < SNIFF_BYTES) {
    const next = await input.next();
    if (next.done) return { bytes: Buffer.concat(parts), done: true };
    parts.push(next.value);
    length += next.value.byteLength;
  }
  return { bytes: Buffer.concat(parts), done: false };
}
