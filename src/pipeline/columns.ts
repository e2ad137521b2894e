/**
 * Columnar building blocks: growable typed arrays and string interning. Tables are typed arrays
 * plus small dictionaries, so they cross worker boundaries as transferable buffers.
 */

/** Growable Float64 column (times, money, epoch days, line numbers: all exact integers < 2^53). */
export class F64Builder {
  private data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  /** Exact-length copy (the spare capacity is not worth transferring). */
  finish(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** Growable Uint32 column (dictionary codes). */
export class U32Builder {
  private data: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Uint32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  finish(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

/** Growable Uint8 column (small enums and flags). */
export class U8Builder {
  private data: Uint8Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Uint8Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint8Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  finish(): Uint8Array {
    return this.data.slice(0, this.length);
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
 * A column of strings as one flat text plus offsets (value i = text[offsets[i], offsets[i+1])).
 * Millions of separate JS strings are costly to keep (GC) and to send between threads
 * (structured clone per string); one text and one typed array are cheap for both.
 */
export interface StringColumn {
  text: string;
  offsets: Uint32Array;
  /** no value needs CSV or JSON escaping (no quote, comma, backslash, control char, surrogate) */
  plain: boolean;
}

const WIDE = /[^\u0000-\u00ff]/;
const NEEDS_ESCAPE = /[",\\\u0000-\u001f\ud800-\udfff]/;

/** Value i of a string column. */
export function strAt(col: StringColumn, i: number): string {
  return col.text.slice(col.offsets[i]!, col.offsets[i + 1]!);
}

/** Builds a StringColumn; each chunk's values are joined at once so no per-value string is kept. */
export class StringColumnBuilder {
  private readonly chunks: string[] = [];
  private pending: string[] = [];
  private readonly offsets = new U32Builder();
  private length = 0;
  constructor() {
    this.offsets.push(0);
  }
  push(value: string): void {
    this.pending.push(value);
    this.length += value.length;
    this.offsets.push(this.length);
  }
  /** Joins the values pushed since the last call (call once per parsed chunk). */
  seal(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(this.pending.join(""));
    this.pending = [];
  }
  finish(): StringColumn {
    this.seal();
    let text = this.chunks.join("");
    // one 16-bit piece (a BOM chunk) makes the whole join 16-bit: re-encode Latin-1 text as 8-bit
    if (!WIDE.test(text)) text = Buffer.from(text, "latin1").toString("latin1");
    return { text, offsets: this.offsets.finish(), plain: !NEEDS_ESCAPE.test(text) };
  }
}

/** 32-bit hash of a string (native CRC32 under Bun): partitioning and hash tables only, never output. */
export function hashString(s: string): number {
  return Bun.hash.crc32(s) | 0;
}

/** Every ArrayBuffer under the typed arrays of a plain object (nested objects too), for transfer lists. */
export function buffersOf(value: object, out: ArrayBuffer[] = []): ArrayBuffer[] {
  for (const v of Object.values(value)) {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0 && !out.includes(v.buffer)) out.push(v.buffer);
    } else if (v !== null && typeof v === "object" && !Array.isArray(v)) buffersOf(v, out);
  }
  return out;
}
