/**
 * Columnar building blocks: growable typed arrays, byte-string columns and small dictionaries.
 * Tables are typed arrays plus small dictionaries, so they cross worker boundaries as
 * transferable or shared buffers. Text values (ids, receipts) stay UTF-8 bytes from the input
 * file to the output file: no JS string per value.
 */

/** The typed-array kinds columns are made of. */
export type NumericArray = Float64Array | Int32Array | Uint32Array | Uint8Array;

/**
 * A typed-array constructor (Float64Array, Int32Array, Uint32Array, Uint8Array): Float64 for
 * times, money, epoch days and line numbers (exact integers < 2^53), Uint32 for dictionary codes
 * and offsets, Int32 for hashes, Uint8 for small enums and flags.
 */
export interface ArrayKind<A extends NumericArray> {
  readonly BYTES_PER_ELEMENT: number;
  new (length: number): A;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): A;
}

/** A growable column of one typed-array kind. */
export class ColumnBuilder<A extends NumericArray> {
  data: A;
  length = 0;
  constructor(
    private readonly kind: ArrayKind<A>,
    capacity = 1024,
  ) {
    this.data = new kind(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = v;
  }
  private grow(): void {
    const next = new this.kind(this.data.length * 2);
    next.set(this.data as ArrayLike<number>);
    this.data = next;
  }
  /** The filled part (a view: transfer `.buffer` or copy it). */
  view(): A {
    return this.data.subarray(0, this.length) as A;
  }
  /** Exact-length copy (the spare capacity is not worth transferring). */
  finish(): A {
    return this.data.slice(0, this.length) as A;
  }
}

/** String dictionary: each distinct value gets a dense code in order of first appearance. */
export class Interner {
  private readonly codes = new Map<string, number>();
  readonly values: string[] = [];
  code(value: string): number {
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.codes.set(value, code);
      this.values.push(value);
    }
    return code;
  }
}

/**
 * Re-keys a dictionary column through a normalising function (e.g. campaign trim + upper-case):
 * normalisation runs once per distinct raw value, not once per row.
 */
export function renormalise(codes: Uint32Array, dict: string[], normalise: (raw: string) => string): string[] {
  const out = new Interner();
  const remap = new Uint32Array(dict.length);
  for (let i = 0; i < dict.length; i++) remap[i] = out.code(normalise(dict[i]!));
  for (let i = 0; i < codes.length; i++) codes[i] = remap[codes[i]!]!;
  return out.values;
}

/**
 * A column of UTF-8 byte strings: value i = bytes[offsets[i], offsets[i+1]). The bytes are the
 * value exactly as read (valid UTF-8: the fast reader only takes valid files, the papaparse
 * fallback re-encodes its strings), so copying them to an output is the same as encoding the
 * string.
 */
export interface BytesColumn {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/** The JS string of UTF-8 bytes [s, e) (BOM kept: it is data inside a value). */
export function decodeBytes(buf: Uint8Array, s: number, e: number): string {
  if (e - s <= 16) {
    // short ASCII values (campaigns, statuses) are cheaper by hand than through the decoder
    let out = "";
    for (let i = s; i < e; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return decoder.decode(buf.subarray(s, e));
      out += String.fromCharCode(b);
    }
    return out;
  }
  return decoder.decode(buf.subarray(s, e));
}

/** Value i of a byte-string column, as a JS string (tests and rare paths; hot paths stay on bytes). */
export function strAt(col: BytesColumn, i: number): string {
  return decodeBytes(col.bytes, col.offsets[i]!, col.offsets[i + 1]!);
}

/** A byte-string column from JS strings (tests, small inputs). */
export function bytesColumn(values: readonly string[]): BytesColumn {
  const b = new BytesBuilder();
  for (const v of values) b.pushString(v);
  return b.finish();
}

/**
 * 32-bit FNV-1a of bytes [s, e), finished with murmur3's mixer (FNV's low bits alone are weak):
 * hash tables and partitioning only.
 */
export function hashBytes(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return mix32(h);
}

/** murmur3 fmix32. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** hashBytes of a string's UTF-8 bytes (the hash the loaders store per id). */
export function hashString(s: string): number {
  const b = encoder.encode(s);
  return hashBytes(b, 0, b.length);
}

/** Growable byte-string column; push returns the value's hash (computed while copying). */
export class BytesBuilder {
  bytes: Uint8Array;
  size = 0;
  readonly offsets = new ColumnBuilder(Uint32Array);
  constructor(capacity = 1 << 16) {
    this.bytes = new Uint8Array(capacity);
    this.offsets.push(0);
  }
  get length(): number {
    return this.offsets.length - 1;
  }
  private reserve(n: number): void {
    if (this.size + n <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.size + n) cap *= 2;
    if (cap > 0xffffffff) throw new RangeError("string column beyond 4 GiB");
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.size));
    this.bytes = next;
  }
  /** Appends bytes [s, e) of buf; returns their FNV-1a hash. */
  push(buf: Uint8Array, s: number, e: number): number {
    const n = e - s;
    if (this.size + n > this.bytes.length) this.reserve(n);
    const out = this.bytes;
    let at = this.size;
    // hashBytes inlined on purpose (hot: every id read): the bytes are hashed while they are copied.
    let h = 0x811c9dc5 | 0;
    for (let i = s; i < e; i++) {
      const b = buf[i]!;
      out[at++] = b;
      h = Math.imul(h ^ b, 0x01000193);
    }
    this.size = at;
    this.offsets.push(at);
    return mix32(h);
  }
  pushString(value: string): number {
    const b = encoder.encode(value);
    return this.push(b, 0, b.length);
  }
  finish(): BytesColumn {
    return { bytes: this.bytes.slice(0, this.size), offsets: this.offsets.finish() };
  }
  /** The filled parts as views (transfer their buffers, or copy them). */
  view(): BytesColumn {
    return { bytes: this.bytes.subarray(0, this.size), offsets: this.offsets.view() };
  }
}

/**
 * Sort weight of a UTF-8 byte so that byte order equals UTF-16 code-unit order (the order JS
 * string comparison uses): lead bytes of U+E000..U+FFFF (0xEE, 0xEF) must sort after lead bytes
 * of supplementary characters (0xF0..0xF4, surrogate pairs in UTF-16). Every other byte keeps
 * its order; continuation bytes never meet a lead byte at the first difference.
 */
export const BYTE_WEIGHT = (() => {
  const w = new Uint16Array(256);
  for (let b = 0; b < 256; b++) w[b] = b + 1;
  w[0xee] = 0xf4 + 1;
  w[0xef] = 0xf5 + 1;
  for (let b = 0xf0; b <= 0xf4; b++) w[b] = b - 2 + 1;
  return w;
})();

/** Code-unit order of two UTF-8 byte strings (what `a < b` gives on the decoded strings). */
export function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const la = ae - as, lb = be - bs;
  const n = la < lb ? la : lb;
  for (let i = 0; i < n; i++) {
    const x = a[as + i]!, y = b[bs + i]!;
    if (x !== y) return BYTE_WEIGHT[x]! - BYTE_WEIGHT[y]!;
  }
  return la - lb;
}

/** Byte equality of two slices. */
export function equalBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): boolean {
  if (ae - as !== be - bs) return false;
  for (let i = 0; i < ae - as; i++) if (a[as + i] !== b[bs + i]) return false;
  return true;
}

/** Compares value i of column a with value j of column b (code-unit order). */
export function compareAt(a: BytesColumn, i: number, b: BytesColumn, j: number): number {
  return compareBytes(a.bytes, a.offsets[i]!, a.offsets[i + 1]!, b.bytes, b.offsets[j]!, b.offsets[j + 1]!);
}

/** A typed array over a SharedArrayBuffer: the big tables are read by every worker without a copy. */
export function shared<A extends NumericArray>(kind: ArrayKind<A>, n: number): A {
  return new kind(new SharedArrayBuffer(Math.max(1, n) * kind.BYTES_PER_ELEMENT), 0, n);
}

/**
 * Reusable working memory for one thread's tasks (a worker runs several reconciliation partitions
 * one after another): a named buffer is kept and handed out again, so its pages are faulted in
 * once per thread, not once per task. Contents are whatever the last user left unless `zero`.
 * Nothing that leaves the task (results) may live in scratch memory.
 */
const scratchBuffers = new Map<string, ArrayBuffer>();

function scratchBuffer(name: string, bytes: number): { buffer: ArrayBuffer; fresh: boolean } {
  const have = scratchBuffers.get(name);
  if (have && have.byteLength >= bytes) return { buffer: have, fresh: false };
  const buffer = new ArrayBuffer(Math.max(64, Math.ceil(bytes * 1.25)));
  scratchBuffers.set(name, buffer);
  return { buffer, fresh: true };
}

/** `n` elements of thread scratch memory `name` (zeroed when `zero`). */
export function scratch<A extends NumericArray>(kind: ArrayKind<A>, name: string, n: number, zero = false): A {
  const { buffer, fresh } = scratchBuffer(name, n * kind.BYTES_PER_ELEMENT);
  const a = new kind(buffer, 0, n);
  if (zero && !fresh) a.fill(0);
  return a;
}

/** Every (non-shared) ArrayBuffer under the typed arrays of a plain object (nested objects too), for transfer lists. */
export function buffersOf(value: object, out: ArrayBuffer[] = []): ArrayBuffer[] {
  for (const v of Object.values(value)) {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0 && !out.includes(v.buffer)) out.push(v.buffer);
    } else if (v !== null && typeof v === "object") buffersOf(v, out);
  }
  return out;
}
