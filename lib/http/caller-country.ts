/** An ISO 3166-1 alpha-2 code, as stored: two letters, upper case. */
const COUNTRY_CODE = /^[A-Z]{2}$/;

/**
 * The caller's country as Netlify's edge placed it: `x-nf-geo` (base64 JSON whose `country.code` a
 * function's `context.geo` is made of; what `netlify dev` sends a Lambda-compatible function too),
 * else `x-country`. Only a two-letter code is taken, upper-cased: a header that holds anything else
 * puts nothing in the record. No address is read: the edge placed the caller before the function ran.
 */
export function callerCountry(request: Request): string | null {
  return codeOf(geoCountry(request.headers.get("x-nf-geo"))) ?? codeOf(request.headers.get("x-country"));
}

function geoCountry(header: string | null): unknown {
  if (!header) return undefined;
  try {
    const geo: unknown = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
    return (geo as { country?: { code?: unknown } } | null)?.country?.code;
  } catch {
    return undefined;
  }
}

function codeOf(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const code = value.trim().toUpperCase();
  return COUNTRY_CODE.test(code) ? code : null;
}
