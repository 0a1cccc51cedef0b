import { HyperLogLog } from "./hyper-log-log.ts";

/** Distinct installs counted exactly up to here; past it a set becomes a HyperLogLog sketch (0.41% standard error). */
const EXACT_LIMIT = 10_000;
/**
 * The bits of an install's hash a set keeps. Two of 10,000 installs share a hash with a probability
 * of about n²/2^(HASH_BITS+1) = 1.8e-7; and 48 bits stay exact in a double, so that no BigInt is needed.
 */
const HASH_BITS = 48;
const HASH_UNIT = 2 ** HASH_BITS;
const FIRST_SLOTS = 8;
/** The first byte of an encoded exact set (a sketch's is 1); then the Rice parameter and the count. */
const EXACT = 0;
const HEADER_BYTES = 4;
/** A remainder is written in two pieces of at most this many bits, so that bit shifts stay within 32 bits. */
const PIECE_BITS = 24;
const PIECE_UNIT = 2 ** PIECE_BITS;

/**
 * An install id's 48-bit hash: two FNV-1a passes over its UTF-16 code units, each finished with
 * MurmurHash3's mixer so that every output bit depends on every input bit (the sketch's register and
 * run of zeros must both look random). Unkeyed, the same on every machine and run, so that a day the
 * service rolled up merges with one a local report counted; computed once per event.
 */
export function installHash(hwid: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < hwid.length; i += 1) {
    const unit = hwid.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
  }
  return mix(a ^ hwid.length) * 2 ** (HASH_BITS - 32) + (mix(b + a) >>> (64 - HASH_BITS));
}

/** MurmurHash3's 32-bit finaliser. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The distinct installs of a figure: the exact set of their hashes while there are at most 10,000
 * (an app's maintainer reads "309 installs" as a fact), then a HyperLogLog sketch of 2^16 registers
 * (0.41% standard error) fed the same hashes, as if each had been added to it directly. A union of
 * sets stays exact until it passes the limit; a union with a sketch is a sketch. Written in a rollup
 * as base64: the sorted hashes' gaps Rice-coded (about 36 bits a hash, 60 KB of text at 10,000), or
 * the sketch's Huffman-coded registers (at most 32 KB).
 */
export class InstallSet {
  /** Open addressing with linear probing, each slot a hash + 1 (0 is empty), at most half full. */
  private slots: Float64Array | undefined = new Float64Array(FIRST_SLOTS);
  private size = 0;
  private sketch: HyperLogLog | undefined;

  /** Whether estimate() is the exact count. */
  get exact(): boolean {
    return this.sketch === undefined;
  }

  /** The estimate's relative standard error: 0 while exact, 1.04/√m for a sketch of m registers. */
  get standardError(): number {
    return this.sketch ? 1.04 / Math.sqrt(2 ** this.sketch.precision) : 0;
  }

  add(hash: number): void {
    if (this.sketch) return this.sketch.add(hash);
    const slots = this.slots!;
    const mask = slots.length - 1;
    const key = hash + 1;
    let slot = hash & mask;
    for (let held = slots[slot]!; held !== 0; held = slots[slot]!) {
      if (held === key) return;
      slot = (slot + 1) & mask;
    }
    if (this.size === EXACT_LIMIT) return this.toSketch().add(hash);
    slots[slot] = key;
    this.size += 1;
    if (this.size * 2 > slots.length) this.refill(slots.length * 2);
  }

  /** A union with a sketch is a sketch at the lower of the two precisions (an older rollup's may be lower). */
  merge(other: InstallSet): void {
    if (!other.sketch) return other.forEachHash((hash) => this.add(hash));
    const ours = this.sketch ?? this.toSketch(other.sketch.precision);
    if (ours.precision > other.sketch.precision) this.sketch = ours.folded(other.sketch.precision);
    this.sketch!.merge(other.sketch);
  }

  /** Takes installs out (an erasure) while the set is exact, in one rebuild; how many it held. A sketch keeps no hash to take. */
  forgetAll(hashes: Iterable<number>): number {
    if (this.sketch) return 0;
    const held = new Set([...hashes].filter((hash) => this.has(hash)));
    if (held.size > 0) this.refill(this.slots!.length, held);
    return held.size;
  }

  /** A set of the same installs that this one's later adds do not change. */
  copy(): InstallSet {
    const copy = new InstallSet();
    if (this.sketch) copy.merge(this);
    else {
      // Slot for slot: new and returning installs copy the installs seen before each day of a report.
      copy.slots = this.slots!.slice();
      copy.size = this.size;
    }
    return copy;
  }

  estimate(): number {
    return this.sketch ? this.sketch.estimate() : this.size;
  }

  /** The set as a rollup stores it (base64): the exact set's header and Rice codes, or the sketch. */
  encode(): string {
    if (this.sketch) return this.sketch.encode().toString("base64");
    const hashes = new Float64Array(this.size);
    let i = 0;
    this.forEachHash((hash) => (hashes[i++] = hash));
    hashes.sort();
    const bits = riceBits(hashes.length);
    const header = Buffer.from([EXACT, bits, hashes.length >>> 8, hashes.length & 0xff]);
    return Buffer.concat([header, writeGaps(hashes, bits)]).toString("base64");
  }

  /** `legacy`: a sketch of rollup format 2 (estimate only, at its lower precision). */
  static decode(text: string, { legacy = false } = {}): InstallSet {
    const bytes = Buffer.from(text, "base64");
    const set = new InstallSet();
    if (legacy || bytes[0] !== EXACT) {
      set.sketch = HyperLogLog.decode(bytes, { legacy });
      set.slots = undefined;
      return set;
    }
    const [bits, count] = [bytes[1], bytes.length >= HEADER_BYTES ? bytes.readUInt16BE(2) : undefined];
    // One encoding a set: its Rice parameter is the count's, and its codes end in its last byte.
    if (bits === undefined || count === undefined || count > EXACT_LIMIT || bits !== riceBits(count)) {
      throw new Error("Not a set of installs");
    }
    set.refill(2 ** Math.ceil(Math.log2(Math.max(FIRST_SLOTS, count * 2 + 1))));
    readGaps(bytes.subarray(HEADER_BYTES), bits, count, (hash) => set.add(hash));
    return set;
  }

  private toSketch(precision?: number): HyperLogLog {
    const sketch = new HyperLogLog(precision);
    this.forEachHash((hash) => sketch.add(hash));
    this.sketch = sketch;
    this.slots = undefined;
    this.size = 0;
    return sketch;
  }

  private forEachHash(use: (hash: number) => void): void {
    for (const key of this.slots!) if (key !== 0) use(key - 1);
  }

  private has(hash: number): boolean {
    const slots = this.slots!;
    const mask = slots.length - 1;
    for (let slot = hash & mask; slots[slot] !== 0; slot = (slot + 1) & mask) if (slots[slot] === hash + 1) return true;
    return false;
  }

  /** The same hashes in `length` slots, but those `without`. */
  private refill(length: number, without: ReadonlySet<number> = new Set()): void {
    const old = this.slots!;
    this.slots = new Float64Array(length);
    this.size = 0;
    for (const key of old) if (key !== 0 && !without.has(key - 1)) this.add(key - 1);
  }
}

/** The Rice parameter for n hashes spread over 2^48: about the log of their mean gap, so that quotients stay small. */
function riceBits(n: number): number {
  return n === 0 ? 0 : Math.min(HASH_BITS, Math.floor(Math.log2(HASH_UNIT / n)));
}

/** Each gap between sorted hashes (the first from 0): its quotient by 2^bits in unary, a 0, then its low bits. */
function writeGaps(hashes: Float64Array, bits: number): Uint8Array {
  const unit = 2 ** bits;
  // The quotients add up to at most 2^48 / 2^bits < 2n.
  const bytes = new Uint8Array(Math.ceil((hashes.length * (bits + 3)) / 8));
  let at = 0;
  // A byte's worth of bits at a time: rollups write thousands of hashes a set.
  const put = (value: number, count: number) => {
    while (count > 0) {
      const free = 8 - (at & 7);
      const used = Math.min(free, count);
      count -= used;
      bytes[at >>> 3]! |= ((value >>> count) & ((1 << used) - 1)) << (free - used);
      at += used;
    }
  };
  let previous = 0;
  for (const hash of hashes) {
    const gap = hash - previous;
    previous = hash;
    const quotient = Math.floor(gap / unit);
    for (let i = 0; i < quotient; i += 1) put(1, 1);
    at += 1;
    const rest = gap - quotient * unit;
    put(Math.floor(rest / PIECE_UNIT), Math.max(0, bits - PIECE_BITS));
    put(rest % PIECE_UNIT, Math.min(bits, PIECE_BITS));
  }
  return bytes.subarray(0, Math.ceil(at / 8));
}

function readGaps(bytes: Uint8Array, bits: number, count: number, use: (hash: number) => void): void {
  const unit = 2 ** bits;
  let at = 0;
  const bit = () => {
    if (at >= bytes.length * 8) throw new Error("A set of installs cut short");
    const value = (bytes[at >>> 3]! >>> (7 - (at & 7))) & 1;
    at += 1;
    return value;
  };
  const take = (count: number) => {
    if (at + count > bytes.length * 8) throw new Error("A set of installs cut short");
    let value = 0;
    while (count > 0) {
      const left = 8 - (at & 7);
      const used = Math.min(left, count);
      value = (value << used) | ((bytes[at >>> 3]! >>> (left - used)) & ((1 << used) - 1));
      count -= used;
      at += used;
    }
    return value;
  };
  let hash = -1;
  for (let i = 0; i < count; i += 1) {
    let quotient = 0;
    while (bit() === 1) quotient += 1;
    const high = take(Math.max(0, bits - PIECE_BITS));
    const gap = quotient * unit + high * PIECE_UNIT + take(Math.min(bits, PIECE_BITS));
    if (i > 0 && gap === 0) throw new Error("A set of installs with a hash twice");
    hash = (i === 0 ? 0 : hash) + gap;
    if (hash >= HASH_UNIT) throw new Error("A set of installs with a hash out of range");
    use(hash);
  }
  if (Math.ceil(at / 8) !== bytes.length || (at & 7 && bytes[at >>> 3]! & ((1 << (8 - (at & 7))) - 1))) {
    throw new Error("A set of installs with bytes past its end");
  }
}
