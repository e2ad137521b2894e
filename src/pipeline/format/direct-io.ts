/**
 * Output writes that skip the page cache (O_DIRECT): the device reads our buffer itself, so the
 * kernel neither allocates nor fills page-cache pages for the ~390 MB a 1M-purchase run writes.
 * Measured on this project's VM (BENCHMARKS.md): 400 MB buffered 1.6 s of system CPU, direct 25 ms.
 * O_DIRECT wants the buffer address, the file offset and the length in whole blocks, so callers
 * fill an aligned buffer (alignedScratch) and write it at a block-aligned offset; the last partial
 * block of a file goes through the page cache. A file system that refuses O_DIRECT (EINVAL) gets
 * plain writes, as does every write when PIPELINE_DIRECT_IO=0.
 */
import { ptr } from "bun:ffi";
import { closeSync, constants, openSync, writeSync } from "node:fs";

/** Alignment of direct writes: 4 KiB covers the logical block size of every common device. */
export const BLOCK = 4096;

let direct = process.env.PIPELINE_DIRECT_IO !== "0" && constants.O_DIRECT !== undefined;

/** Turns direct writes on or off for this thread (tests check both paths write the same bytes). */
export function useDirectWrites(on: boolean): void {
  direct = on && constants.O_DIRECT !== undefined;
}

const scratchBuffers = new Map<string, Uint8Array>();

/** A new buffer of `length` bytes (rounded up to whole blocks) whose address is a multiple of BLOCK. */
function alignedBuffer(length: number): Uint8Array {
  const rounded = Math.ceil(length / BLOCK) * BLOCK;
  const raw = new Uint8Array(rounded + BLOCK);
  const skip = (BLOCK - (ptr(raw) % BLOCK)) % BLOCK;
  return raw.subarray(skip, skip + rounded);
}

/**
 * This thread's aligned buffer `name`, at least `size` bytes: kept and handed out again, so its
 * pages are faulted in once per thread (contents are whatever the last user left).
 */
export function alignedScratch(name: string, size: number): Uint8Array {
  const have = scratchBuffers.get(name);
  if (have && have.length >= size) return have;
  const aligned = alignedBuffer(Math.max(size, have ? have.length * 2 : 0));
  scratchBuffers.set(name, aligned);
  return aligned;
}

function writeAll(fd: number, buf: Uint8Array, from: number, to: number, pos: number): void {
  while (from < to) {
    const n = writeSync(fd, buf, from, to - from, pos);
    from += n;
    pos += n;
  }
}

/**
 * Writes buf[0, length) at file offset `pos` of the existing file `path`. With `pos` a multiple of
 * BLOCK and `buf` from alignedScratch, the whole blocks go straight to the device; the rest (and
 * everything, when direct writes are off or refused) through the page cache.
 */
export function writeAt(path: string, pos: number, buf: Uint8Array, length: number): void {
  let done = 0;
  const blocks = Math.floor(length / BLOCK) * BLOCK;
  if (direct && blocks > 0 && pos % BLOCK === 0 && ptr(buf) % BLOCK === 0) {
    let fd = -1;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_DIRECT);
      writeAll(fd, buf, 0, blocks, pos);
      done = blocks;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
      direct = false; // this file system does not take O_DIRECT: plain writes from now on
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
  if (done === length) return;
  const fd = openSync(path, "r+");
  try {
    writeAll(fd, buf, done, length, pos + done);
  } finally {
    closeSync(fd);
  }
}

/** Writes a file front to back through one aligned staging buffer, flushed with writeAt whenever it fills. */
export class SequentialWriter {
  private readonly stage: Uint8Array;
  private fill = 0;
  private position = 0;
  /** Creates (or empties) `path`. */
  constructor(
    private readonly path: string,
    stageBytes = 8 << 20,
  ) {
    closeSync(openSync(path, "w"));
    this.stage = alignedBuffer(stageBytes);
  }
  append(bytes: Uint8Array): void {
    for (let from = 0; from < bytes.length; ) {
      const n = Math.min(bytes.length - from, this.stage.length - this.fill);
      this.stage.set(bytes.subarray(from, from + n), this.fill);
      this.fill += n;
      from += n;
      if (this.fill === this.stage.length) this.flush();
    }
  }
  /** Writes what is left. */
  close(): void {
    if (this.fill > 0) this.flush();
  }
  private flush(): void {
    writeAt(this.path, this.position, this.stage, this.fill);
    this.position += this.fill;
    this.fill = 0;
  }
}
