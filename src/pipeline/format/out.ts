/** The byte buffer every output renders into, and the ASCII helpers its templates use. */

const encoder = new TextEncoder();

/** UTF-8 (here: ASCII) bytes of a template string. */
export const ascii = (s: string): Uint8Array => encoder.encode(s);

/** Growable output bytes; `room(n)` before writing up to n bytes by hand at `at`. */
export class Out {
  buf: Uint8Array;
  at = 0;
  /** shared: the bytes live in a SharedArrayBuffer (other threads write them out without a copy) */
  constructor(
    capacity: number,
    private readonly shared = false,
  ) {
    this.buf = this.alloc(Math.max(1024, capacity));
  }
  private alloc(n: number): Uint8Array {
    return this.shared ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n);
  }
  room(n: number): Uint8Array {
    if (this.at + n > this.buf.length) {
      const next = this.alloc(Math.max(Math.ceil(this.buf.length * 1.5), this.at + n));
      next.set(this.buf.subarray(0, this.at));
      this.buf = next;
    }
    return this.buf;
  }
  /** The written bytes (a view: the spare capacity goes along, and is freed with the chunk). */
  done(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }
}

export function put(buf: Uint8Array, at: number, src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) buf[at + i] = src[i]!;
  return at + src.length;
}
