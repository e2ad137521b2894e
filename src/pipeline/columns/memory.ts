/** Where big columns live: shared memory (read by every worker), thread scratch memory, transfer lists. */
import type { ArrayKind, NumericArray } from "./builder.ts";

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
