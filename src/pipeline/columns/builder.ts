/** One generic growable column for every typed-array kind. */

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
