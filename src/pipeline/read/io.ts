/** Byte-level file access of the readers: a file's size, positioned reads, line starts. */
import { readSync } from "node:fs";
import { stat } from "node:fs/promises";
import { PipelineInputError } from "../errors.ts";

/** Size of an input file; a missing path or a folder is a bad-input error naming the file. */
export async function inputSize(path: string, file: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new PipelineInputError(file, undefined, undefined, `not a file: ${path}`);
    return info.size;
  } catch (error) {
    if (error instanceof PipelineInputError) throw error;
    throw new PipelineInputError(file, undefined, undefined, `file not found: ${path}`);
  }
}

let ioBuffer = new Uint8Array(0);

/** Reads [pos, pos + n) of fd into the shared I/O buffer (a view of exactly what was read). */
export function readAt(fd: number, pos: number, n: number): Uint8Array {
  if (ioBuffer.length < n) ioBuffer = new Uint8Array(Math.max(n, ioBuffer.length * 2));
  let got = 0;
  while (got < n) {
    const r = readSync(fd, ioBuffer, got, n - got, pos + got);
    if (r <= 0) break;
    got += r;
  }
  return ioBuffer.subarray(0, got);
}

/** The first line start at or after x: the byte after the first "\n" at or after x - 1 (size when none). */
export function lineStartAfter(fd: number, x: number, size: number): number {
  const step = 1 << 16;
  for (let pos = x - 1; pos < size; pos += step) {
    const chunk = readAt(fd, pos, Math.min(step, size - pos));
    const nl = chunk.indexOf(10);
    if (nl !== -1) return pos + nl + 1;
  }
  return size;
}
