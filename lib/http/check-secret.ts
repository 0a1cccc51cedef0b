import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether the request carries the shared secret, in `X-Telemetry-Key` or as
 * `Authorization: Bearer <secret>`. Both sides are hashed first, so the comparison takes the same
 * time whatever the length or content of the guess.
 */
export function checkSecret(request: Request, secret: string): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  const given = [request.headers.get("x-telemetry-key"), bearer].filter((value): value is string => Boolean(value));
  const expected = digest(secret);
  // Every candidate is compared, so which header carried it does not show in the time taken either.
  return given.map((value) => timingSafeEqual(digest(value.trim()), expected)).includes(true);
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
