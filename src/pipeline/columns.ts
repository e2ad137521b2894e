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

/** Dense rank of each dictionary entry in code-unit string order (deterministic sort keys). */
export function dictRanks(dict: readonly string[]): Uint32Array {
  const order = Array.from(dict.keys()).sort((a, b) => (dict[a]! < dict[b]! ? -1 : dict[a]! > dict[b]! ? 1 : 0));
  const ranks = new Uint32Array(dict.length);
  for (let r = 0; r < order.length; r++) ranks[order[r]!] = r;
  return ranks;
}

/** Every ArrayBuffer under the typed arrays of a plain object (one level deep), for transfer lists. */
export function buffersOf(value: object): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const v of Object.values(value)) {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && !out.includes(v.buffer)) out.push(v.buffer);
  }
  return out;
}
