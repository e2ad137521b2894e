/**
 * Buffered, backpressure-aware CSV line writer for the data generator.
 *
 * Lines are appended to a string buffer; once it exceeds `chunkChars` it is handed to
 * Bun's FileSink. The producer awaits `drain()` regularly, which flushes the sink to
 * disk whenever it holds more than `highWaterMark` bytes, so memory stays bounded
 * however many rows are written.
 */

import { writeFileSync } from "node:fs";
import type { FileSink } from "bun";

/** RFC 4180 quoting: only when the value holds a comma, quote, CR or LF. */
export function csvField(v: string): string {
  if (/[",\r\n]/.test(v)) return `"${v.replace(/"/g, '""')}"`;
  return v;
}

export class CsvWriter {
  readonly path: string;
  rows = 0;
  private sink: FileSink;
  private buf = "";
  private pending = 0; // chars handed to the sink since the last flush
  private readonly eol: string;
  private readonly chunkChars: number;
  private readonly highWaterMark: number;

  constructor(path: string, header: string[], opts: { bom?: boolean; crlf?: boolean; chunkChars?: number } = {}) {
    this.path = path;
    this.eol = opts.crlf ? "\r\n" : "\n";
    this.chunkChars = opts.chunkChars ?? 1 << 18;
    this.highWaterMark = 4 << 20;
    writeFileSync(path, ""); // FileSink does not truncate: an older, longer file would leave a tail
    this.sink = Bun.file(path).writer({ highWaterMark: this.highWaterMark });
    this.buf = (opts.bom ? "\uFEFF" : "") + header.map(csvField).join(",") + this.eol;
  }

  /** Append one pre-joined CSV line (fields already quoted where needed). */
  line(s: string): void {
    this.buf += s + this.eol;
    this.rows++;
    if (this.buf.length >= this.chunkChars) this.flushBuffer();
  }

  /** Append one row of raw values, quoting as needed. */
  row(values: string[]): void {
    this.line(values.map(csvField).join(","));
  }

  private flushBuffer(): void {
    if (this.buf.length === 0) return;
    this.sink.write(this.buf);
    this.pending += this.buf.length;
    this.buf = "";
  }

  /** Backpressure point: write buffered data out once the sink holds too much. */
  async drain(): Promise<void> {
    if (this.pending < this.highWaterMark) return;
    this.pending = 0;
    await this.sink.flush();
  }

  async close(): Promise<void> {
    this.flushBuffer();
    await this.sink.end();
  }
}
