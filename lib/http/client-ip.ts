import { isIP } from "node:net";

/**
 * The client's address: the platform's verified one (Netlify's `context.ip`), else Netlify's own
 * connection header, else the first `X-Forwarded-For` hop (which a client can forge, hence last).
 * Only an IP address is taken: a forged header cannot put arbitrary text in the record.
 */
export function clientIp(request: Request, platformIp: string | undefined): string | null {
  const candidates = [
    platformIp,
    request.headers.get("x-nf-client-connection-ip"),
    request.headers.get("x-forwarded-for")?.split(",")[0],
  ];
  for (const candidate of candidates) {
    const ip = candidate?.trim();
    if (ip && isIP(ip.split("%")[0]!)) return ip;
  }
  return null;
}
