import { deflateRawSync, inflateRawSync } from "node:zlib";

/** Active installs: 2^14 registers, a standard error of 0.8% (within 2% of exact at 100,000 installs, 2.5 sigma). */
export const INSTALLS_PRECISION = 14;
/** Installs of a version, an event, an error group...: 2^11 registers (2.3%), so that a rollup holding hundreds stays small. */
export const BREAKDOWN_PRECISION = 11;
/** Bits of the hash of an install id: the register's index, then the run of zeros that sets its rank. */
const HASH_BITS = 64;
/** A sketch with fewer registers set than this share of all keeps only those (index, rank) pairs. */
const SPARSE_SHARE = 1 / 8;
const SPARSE = 0;
const DENSE = 1;
const HEADER_BYTES = 2;
const SPARSE_PAIR_BYTES = 3;
const ALPHA_INFINITY = 1 / (2 * Math.LN2);

/** An install id's 64-bit hash, as two 32-bit halves. */
export interface InstallHash {
  hi: number;
  lo: number;
}

/**
 * The hash every sketch counts an install id by: two FNV-1a passes over its UTF-16 code units, each
 * finished with MurmurHash3's mixer so that every output bit depends on every input bit (the
 * register index and the run of zeros must both look random). The same on every machine and run;
 * computed once per event and shared by all the sketches the event counts in.
 */
export function installHash(hwid: string): InstallHash {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < hwid.length; i += 1) {
    const unit = hwid.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
  }
  return { hi: mix(a ^ hwid.length), lo: mix(b + a) };
}

/** MurmurHash3's 32-bit finaliser. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A HyperLogLog sketch of distinct installs: mergeable (a week's actives are the union of its
 * days' sketches), written in a rollup as base64, sparse while few registers are set. Estimated
 * with Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
 * sketches", 2017), which needs neither bias tables nor a switch to linear counting.
 *
 * Written here because the npm packages we measured were unfit: bloom-filters' HyperLogLog took
 * 18 s for 100,000 adds, and the others depend on unmaintained native hash modules.
 */
export class HyperLogLog {
  private sparse: Map<number, number> | undefined = new Map();
  private dense: Uint8Array | undefined;
  private readonly registers: number;

  constructor(readonly precision: number) {
    this.registers = 2 ** precision;
  }

  add(hash: InstallHash): void {
    const p = this.precision;
    const index = hash.hi >>> (32 - p);
    const rest = (hash.hi << p) >>> 0;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - p + Math.clz32(hash.lo) + 1;
    this.raise(index, rank);
  }

  merge(other: HyperLogLog): void {
    if (other.precision !== this.precision) {
      throw new Error(`Cannot merge sketches of precision ${other.precision} and ${this.precision}`);
    }
    if (other.dense) other.dense.forEach((rank, index) => rank > 0 && this.raise(index, rank));
    else other.sparse!.forEach((rank, index) => this.raise(index, rank));
  }

  /** A sketch of the same installs that this one's later adds do not change. */
  copy(): HyperLogLog {
    const copy = new HyperLogLog(this.precision);
    copy.merge(this);
    return copy;
  }

  estimate(): number {
    const q = HASH_BITS - this.precision;
    const m = this.registers;
    const histogram = new Array<number>(q + 2).fill(0);
    let set = 0;
    const count = (rank: number) => {
      histogram[rank]! += 1;
      set += 1;
    };
    if (this.dense) this.dense.forEach((rank) => rank > 0 && count(rank));
    else this.sparse!.forEach(count);
    histogram[0] = m - set;
    let z = m * tau(1 - histogram[q + 1]! / m);
    for (let k = q; k >= 1; k -= 1) z = 0.5 * (z + histogram[k]!);
    z += m * sigma(histogram[0] / m);
    return Math.round((ALPHA_INFINITY * m * m) / z);
  }

  /** The sketch as a rollup stores it: a header (format, precision), then sparse pairs or the deflated registers. */
  encode(): string {
    const header = Buffer.from([this.dense ? DENSE : SPARSE, this.precision]);
    if (this.dense) return Buffer.concat([header, deflateRawSync(this.dense)]).toString("base64");
    const pairs = Buffer.alloc(this.sparse!.size * SPARSE_PAIR_BYTES);
    [...this.sparse!]
      .sort(([a], [b]) => a - b)
      .forEach(([index, rank], i) => {
        pairs.writeUInt16BE(index, i * SPARSE_PAIR_BYTES);
        pairs.writeUInt8(rank, i * SPARSE_PAIR_BYTES + 2);
      });
    return Buffer.concat([header, pairs]).toString("base64");
  }

  static decode(text: string): HyperLogLog {
    const bytes = Buffer.from(text, "base64");
    const [format, precision] = [bytes[0], bytes[1]];
    if (precision === undefined || precision < 4 || precision > 16) throw new Error("Not a HyperLogLog sketch");
    const sketch = new HyperLogLog(precision);
    const body = bytes.subarray(HEADER_BYTES);
    if (format === DENSE) {
      const registers = inflateRawSync(body);
      if (registers.length !== sketch.registers) throw new Error("A HyperLogLog sketch of the wrong size");
      sketch.sparse = undefined;
      sketch.dense = new Uint8Array(registers);
    } else if (format === SPARSE && body.length % SPARSE_PAIR_BYTES === 0) {
      for (let at = 0; at < body.length; at += SPARSE_PAIR_BYTES) {
        sketch.raise(body.readUInt16BE(at), body.readUInt8(at + 2));
      }
    } else {
      throw new Error("Not a HyperLogLog sketch");
    }
    return sketch;
  }

  private raise(index: number, rank: number): void {
    if (this.dense) {
      if (rank > this.dense[index]!) this.dense[index] = rank;
      return;
    }
    const sparse = this.sparse!;
    if (rank <= (sparse.get(index) ?? 0)) return;
    sparse.set(index, rank);
    if (sparse.size > this.registers * SPARSE_SHARE) {
      this.dense = new Uint8Array(this.registers);
      sparse.forEach((r, i) => (this.dense![i] = r));
      this.sparse = undefined;
    }
  }
}

/** Ertl's σ(x) = x + Σ x^(2^k) 2^(k-1); infinite at 1 (no register set). */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (let previous = -1; z !== previous;) {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  }
  return z;
}

/** Ertl's τ(x) = (1 - x - Σ (1 - x^(2^-k))² 2^-k) / 3. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (let previous = -1; z !== previous;) {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  }
  return z / 3;
}
