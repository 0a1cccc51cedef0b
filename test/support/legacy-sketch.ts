import { deflateRawSync } from "node:zlib";

/**
 * The HyperLogLog sketch rollup format 2 wrote (lib/tally/hyper-log-log.ts at 5824d58), kept here to
 * write such rollups in tests: the installs' 64-bit hashes, 2^precision registers, encoded sparse
 * (index, rank pairs) while fewer than an eighth of the registers are set, else deflated.
 */
export function legacySketch(hwids: Iterable<string>, precision: number): string {
  const registers = new Uint8Array(2 ** precision);
  for (const hwid of hwids) {
    const { hi, lo } = legacyHash(hwid);
    const index = hi >>> (32 - precision);
    const rest = (hi << precision) >>> 0;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - precision + Math.clz32(lo) + 1;
    if (rank > registers[index]!) registers[index] = rank;
  }
  const set = registers.filter((rank) => rank > 0).length;
  if (set > registers.length / 8) {
    return Buffer.concat([Buffer.from([1, precision]), deflateRawSync(registers)]).toString("base64");
  }
  const pairs = Buffer.alloc(set * 3);
  let at = 0;
  registers.forEach((rank, index) => {
    if (rank === 0) return;
    pairs.writeUInt16BE(index, at);
    pairs.writeUInt8(rank, at + 2);
    at += 3;
  });
  return Buffer.concat([Buffer.from([0, precision]), pairs]).toString("base64");
}

function legacyHash(hwid: string): { hi: number; lo: number } {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < hwid.length; i += 1) {
    const unit = hwid.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
  }
  return { hi: mix(a ^ hwid.length), lo: mix(b + a) };
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
