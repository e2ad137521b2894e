/**
 * The fast CSV reader: records scanned straight off the file's bytes, only the wanted columns
 * located (no string per cell), byte ranges of one file read in parallel.
 *
 * papaparse (papaparse.ts) stays the RFC 4180 authority: this reader only accepts files it reads
 * exactly as papaparse would, and reports anything else as "irregular" so the caller falls back
 * to papaparse for the whole file. Regular means:
 *   - valid UTF-8 (an optional UTF-8 BOM first);
 *   - the first line is the header, non-empty, without quotes; it ends in "\n" (LF mode) or
 *     "\r\n" (CRLF mode: then every newline outside quotes must be "\r\n");
 *   - a quoted field opens at the start of a field and its closing quote is followed by a comma,
 *     the newline or the end of the file; inside it `""` is a quote and anything else is data;
 *   - an unquoted field holds no quote.
 * For such files papaparse guesses the same newline (from the header line), splits the same
 * fields, and the row's line number is 1 + the "\n" bytes before it. A record made of one empty
 * field is a blank line (skipped, like papaparse.ts does with papaparse's [""] rows).
 */

const QUOTE = 34,
  COMMA = 44,
  LF = 10,
  CR = 13;

/** Field stop bytes outside quotes: comma, LF, quote (CRLF mode: CR too). */
const STOP_LF = new Uint8Array(256);
STOP_LF[COMMA] = 1;
STOP_LF[LF] = 1;
STOP_LF[QUOTE] = 1;
const STOP_CRLF = STOP_LF.slice();
STOP_CRLF[CR] = 1;

/** Records a Scanner hands over at a time. */
const BATCH_RECORDS = 1024;

const SCAN_MORE = 0;
export const SCAN_OK = 1,
  SCAN_IRREGULAR = 2,
  SCAN_NEED_MORE = 3;

/**
 * Scans records that start before a stop mark, a batch at a time: for record r of a batch, the
 * wanted column k is bytes [fs[r * slots + k], fe[r * slots + k]) of the buffer (empty when the
 * row is too short) and lines[r] counts the "\n" bytes before the record since the scan began.
 * `slotOf[col]` is the slot of column `col` (-1: not wanted; columns past its length are not
 * wanted). A quoted wanted field holding `""` is unescaped in place. After next(): status is
 * SCAN_MORE (a full batch, call again), SCAN_OK (stop mark reached: `pos` is the first record
 * start at or past it), SCAN_IRREGULAR (`reason`: leave the file to papaparse) or
 * SCAN_NEED_MORE (a record runs past the end of the buffer before the file ends: read more and
 * start over). The loop calls nothing, so it compiles once and stays monomorphic.
 */
export class Scanner {
  readonly fs: Int32Array;
  readonly fe: Int32Array;
  readonly lines: Float64Array = new Float64Array(BATCH_RECORDS);
  readonly slots: number;
  pos = 0;
  newlines = 0;
  rows = 0;
  status = SCAN_MORE;
  reason = "";
  constructor(
    private readonly slotOf: Int32Array,
    slots: number,
    private readonly crlf: boolean,
  ) {
    this.slots = slots;
    this.fs = new Int32Array(BATCH_RECORDS * slots);
    this.fe = new Int32Array(BATCH_RECORDS * slots);
  }
  reset(start: number): void {
    this.pos = start;
    this.newlines = 0;
    this.rows = 0;
    this.status = SCAN_MORE;
    this.reason = "";
  }
  /** Scans the next batch; returns how many records it holds (see status). */
  next(buf: Uint8Array, stopAt: number, eof: boolean): number {
    const len = buf.length,
      crlf = this.crlf;
    const stop = crlf ? STOP_CRLF : STOP_LF;
    const fs = this.fs,
      fe = this.fe,
      lines = this.lines,
      slotOf = this.slotOf;
    const nSlots = this.slots;
    const maxCol = slotOf.length;
    let pos = this.pos;
    let newlines = this.newlines;
    let n = 0;
    let status = SCAN_OK;
    let reason = "";
    records: while (pos < stopAt) {
      if (n === BATCH_RECORDS) {
        status = SCAN_MORE;
        break;
      }
      const o = n * nSlots;
      const recLine = newlines;
      for (let k = 0; k < nSlots; k++) {
        fs[o + k] = 0;
        fe[o + k] = 0;
      }
      let col = 0;
      for (;;) {
        let fStart: number, fEnd: number, c: number;
        if (pos < len && buf[pos] === QUOTE) {
          let p = pos + 1;
          let escapes = 0;
          for (;;) {
            let b = 0;
            // biome-ignore lint/suspicious/noAssignInExpressions: hot loop, deliberately unrolled (one load per byte)
            while (p < len && (b = buf[p]!) !== QUOTE) {
              if (b === LF) newlines++;
              p++;
            }
            if (p >= len) {
              status = eof ? SCAN_IRREGULAR : SCAN_NEED_MORE;
              reason = "unterminated quoted field";
              break records;
            }
            if (p + 1 < len) {
              if (buf[p + 1] === QUOTE) {
                escapes++;
                p += 2;
                continue;
              }
            } else if (!eof) {
              status = SCAN_NEED_MORE;
              break records;
            }
            break;
          }
          fStart = pos + 1;
          fEnd = p;
          pos = p + 1;
          if (escapes > 0 && col < maxCol && slotOf[col]! >= 0) {
            let w = fStart;
            for (let r = fStart; r < fEnd; r++) {
              const b = buf[r]!;
              buf[w++] = b;
              if (b === QUOTE) r++;
            }
            fEnd = w;
          }
          c = pos < len ? buf[pos]! : -1;
          if ((c !== COMMA && c !== LF && c !== CR && c !== -1) || (c === CR && !crlf)) {
            status = SCAN_IRREGULAR;
            reason = "text after a closing quote";
            break records;
          }
        } else {
          fStart = pos;
          while (pos < len && stop[buf[pos]!] === 0) pos++;
          fEnd = pos;
          c = pos < len ? buf[pos]! : -1;
          if (c === QUOTE) {
            status = SCAN_IRREGULAR;
            reason = "quote inside an unquoted field";
            break records;
          }
        }
        if (col < maxCol) {
          const k = slotOf[col]!;
          if (k >= 0) {
            fs[o + k] = fStart;
            fe[o + k] = fEnd;
          }
        }
        col++;
        if (c === COMMA) {
          pos++;
          continue;
        }
        if (c === LF) {
          if (crlf) {
            status = SCAN_IRREGULAR;
            reason = "LF without CR in a CRLF file";
            break records;
          }
          if (pos > 0 && buf[pos - 1] === CR) {
            // the byte before the LF: a closing quote when the field was quoted
            status = SCAN_IRREGULAR;
            reason = "CRLF line in an LF file";
            break records;
          }
          pos++;
          newlines++;
        } else if (c === CR) {
          if (pos + 1 >= len || buf[pos + 1] !== LF) {
            status = pos + 1 >= len && !eof ? SCAN_NEED_MORE : SCAN_IRREGULAR;
            reason = "CR without LF";
            break records;
          }
          pos += 2;
          newlines++;
        } else if (!eof) {
          status = SCAN_NEED_MORE;
          break records;
        }
        if (col === 1 && fEnd === fStart) break; // blank line
        lines[n] = recLine;
        n++;
        break;
      }
    }
    this.pos = pos;
    this.newlines = newlines;
    this.rows += n;
    this.status = status;
    this.reason = reason;
    return n;
  }
}

/** Receives the scanned records of a batch (see Scanner) and the papaparse fallback's rows (n = 1, offset 0). */
export interface RowSink {
  rows(buf: Uint8Array, fs: Int32Array, fe: Int32Array, lines: Float64Array, n: number, slots: number): void;
}

/**
 * Scans every record starting in [start, stopAt) of buf into the sink. `eof`: buf ends where the
 * file ends. Returns the scanner (status SCAN_OK, SCAN_IRREGULAR or SCAN_NEED_MORE; pos, newlines, rows).
 */
export function scanInto(
  buf: Uint8Array,
  start: number,
  stopAt: number,
  eof: boolean,
  crlf: boolean,
  slotOf: Int32Array,
  slots: number,
  sink: RowSink,
): Scanner {
  const sc = new Scanner(slotOf, slots, crlf);
  sc.reset(start);
  for (;;) {
    const n = sc.next(buf, stopAt, eof);
    if (sc.status === SCAN_IRREGULAR || sc.status === SCAN_NEED_MORE) return sc;
    if (n > 0) sink.rows(buf, sc.fs, sc.fe, sc.lines, n, slots);
    if (sc.status === SCAN_OK) return sc;
  }
}

/** What the first bytes of a file say about reading it fast. */
export type HeaderProbe =
  | { ok: true; crlf: boolean; header: string; dataStart: number }
  | { ok: false; reason: string };

/** The head papaparse guesses the newline from: the first stream chunk of papaparse.ts (1 MiB). */
export const PROBE_BYTES = 1 << 20;

/**
 * Looks at the head of a file (`head` = its first min(size, PROBE_BYTES) bytes, `size` = the
 * whole length): the header line's text (BOM stripped, newline excluded) and where the data
 * starts, or why the file is not regular enough for the fast reader.
 */
export function probeHeader(head: Uint8Array, size: number): HeaderProbe {
  let at = 0;
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) at = 3;
  const nl = head.indexOf(LF, at);
  if (nl === -1) return { ok: false, reason: head.length < size ? "header line longer than the probe" : "no newline" };
  if (nl === at || (nl === at + 1 && head[at] === CR)) return { ok: false, reason: "blank first line" };
  const crlf = head[nl - 1] === CR;
  const end = crlf ? nl - 1 : nl;
  for (let i = at; i < end; i++) {
    if (head[i] === QUOTE) return { ok: false, reason: "quoted header" };
    if (head[i] === CR) return { ok: false, reason: "CR inside the header" };
  }
  const line = head.subarray(at, end);
  if (!isUtf8(line)) return { ok: false, reason: "header is not UTF-8" };
  // papaparse guesses the newline once, from its first chunk: it must agree with ours
  let first = new TextDecoder("utf-8", { ignoreBOM: true }).decode(head, { stream: head.length < size });
  if (first.charCodeAt(0) === 0xfeff) first = first.slice(1);
  if (guessLineEndings(first) !== (crlf ? "\r\n" : "\n")) {
    return { ok: false, reason: "papaparse would guess another newline" };
  }
  return { ok: true, crlf, header: new TextDecoder("utf-8", { ignoreBOM: true }).decode(line), dataStart: nl + 1 };
}

/** papaparse 5's guessLineEndings with quoteChar `"`, verbatim in effect. */
export function guessLineEndings(text: string): string {
  const input = text.substring(0, 1024 * 1024).replace(/"([\s\S]*?)"/gm, "");
  const r = input.split("\r");
  const n = input.split("\n");
  const nAppearsFirst = n.length > 1 && n[0]!.length < r[0]!.length;
  if (r.length === 1 || nAppearsFirst) return "\n";
  let numWithN = 0;
  for (let i = 0; i < r.length; i++) if (r[i]![0] === "\n") numWithN++;
  return numWithN >= r.length / 2 ? "\r\n" : "\r";
}

import { isUtf8 as nodeIsUtf8 } from "node:buffer";

/** Valid UTF-8 (native check). */
export function isUtf8(bytes: Uint8Array): boolean {
  return bytes.length === 0 || nodeIsUtf8(bytes);
}
