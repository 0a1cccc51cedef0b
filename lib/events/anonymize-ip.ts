import { createHmac } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { IpMode } from "../config.ts";

/** Hex characters kept of the HMAC: 64 bits, enough to tell clients apart, too few to be worth reversing. */
const HASH_HEX_CHARS = 16;
/** IPv6 hextets kept by truncation: the /48 a site is usually given. */
const IPV6_KEPT_HEXTETS = 3;

/**
 * The client address as the configured mode keeps it: `full` as received, `truncate` to its
 * network (IPv4 /24, IPv6 /48), `hash` as a keyed HMAC-SHA256 (the same address gives the same
 * value while the salt stays, and without the salt it cannot be recomputed from a guess), `off` not at all.
 */
export function anonymizeIp(ip: string | null, mode: IpMode, salt: string | undefined): string | null {
  if (ip === null || mode === "off") return null;
  const address = canonical(ip);
  if (mode === "full") return address;
  if (mode === "hash") {
    if (!salt) throw new Error("TELEMETRY_IP_SALT is required to hash addresses");
    return createHmac("sha256", salt).update(address).digest("hex").slice(0, HASH_HEX_CHARS);
  }
  if (isIPv4(address)) return `${address.split(".").slice(0, 3).join(".")}.0`;
  if (isIPv6(address)) {
    const kept = expandIpv6(address).slice(0, IPV6_KEPT_HEXTETS);
    while (kept.at(-1) === "0") kept.pop();
    return `${kept.join(":")}::`;
  }
  return null;
}

/** Lower case, without a zone, and an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) as the IPv4 it is. */
function canonical(ip: string): string {
  const address = ip.toLowerCase().split("%")[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  return mapped && isIPv4(mapped[1]!) ? mapped[1]! : address;
}

/** The eight hextets of an IPv6 address, without leading zeros. */
function expandIpv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const parts = (text: string) =>
    (text ? text.split(":") : []).flatMap((part) => (part.includes(".") ? ipv4AsHextets(part) : [part]));
  const left = parts(head);
  const right = tail === undefined ? [] : parts(tail);
  const zeros = Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((part) => Number.parseInt(part, 16).toString(16));
}

function ipv4AsHextets(ipv4: string): string[] {
  const [a, b, c, d] = ipv4.split(".").map(Number) as [number, number, number, number];
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
