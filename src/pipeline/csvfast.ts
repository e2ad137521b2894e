/**
 * The fast CSV reader: records scanned straight off the file's bytes, only the wanted columns
 * located (no string per cell), byte ranges of one file read in parallel.
 *
 * papaparse (parse.ts) stays the RFC 4180 authority: this reader only accepts files it reads
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
 * field is a blank line (skipped, like parse.ts does with papaparse's [""] rows).
 */

export const QUOTE = 34, COMMA = 44, LF = 10, CR = 13;

/** Field stop bytes outside quotes: comma, LF, quote (CRLF mode: CR too). */
const STOP_LF = new Uint8Array(256);
STOP_LF[COMMA] = 1;
STOP_LF[LF] = 1;
STOP_LF[QUOTE] = 1;
const STOP_CRLF = STOP_LF.slice();
STOP_CRLF[CR] = 1;

/** Receives each data record: the wanted columns as byte ranges [fs[k], fe[k]) of buf (empty when absent). */
export interface RowSink {
  row(buf: Uint8Array, fs: Int32Array, fe: Int32Array, line: number): void;
}

export const SCAN_OK = 0, SCAN_IRREGULAR = 1, SCAN_NEED_MORE = 2;

export interface ScanResult {
  status: number;
  /** where the scan stopped: the first record start at or past stopAt (buffer coordinates) */
  end: number;
  /** "\n" bytes consumed from the start (the line offset of the next record) */
  newlines: number;
  /** data records handed to the sink */
  rows: number;
  reason?: string;
}

/**
 * Scans records that start in [start, stopAt) of buf. `eof`: buf ends where the file ends.
 * `slotOf[col]` is the slot of column `col` (-1: not wanted; columns past its length are not
 * wanted). A quoted wanted field holding `""` is unescaped in place. NEED_MORE: a record runs
 * past the end of buf before the file ends (read more and scan again from scratch).
 */
export function scanRecords(
  buf: Uint8Array,
  start: number,
  stopAt: number,
  eof: boolean,
  crlf: boolean,
  slotOf: Int32Array,
  fs: Int32Array,
  fe: Int32Array,
  sink: RowSink,
): ScanResult {
  const len = buf.length;
  const stop = crlf ? STOP_CRLF : STOP_LF;
  const nSlots = fs.length;
  const maxCol = slotOf.length;
  let pos = start;
  let newlines = 0;
  let rows = 0;
  while (pos < stopAt) {
    const recLine = newlines;
    for (let k = 0; k < nSlots; k++) {
      fs[k] = 0;
      fe[k] = 0;
    }
    let col = 0;
    for (;;) {
      let fStart: number, fEnd: number, c: number;
      if (pos < len && buf[pos] === QUOTE) {
        let p = pos + 1;
        let escapes = 0;
        for (;;) {
          let b = 0;
          while (p < len && (b = buf[p]!) !== QUOTE) {
            if (b === LF) newlines++;
            p++;
          }
          if (p >= len) return scanResult(eof ? SCAN_IRREGULAR : SCAN_NEED_MORE, pos, newlines, rows, "unterminated quoted field");
          if (p + 1 < len) {
            if (buf[p + 1] === QUOTE) {
              escapes++;
              p += 2;
              continue;
            }
          } else if (!eof) return scanResult(SCAN_NEED_MORE, pos, newlines, rows);
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
        if (c !== COMMA && c !== LF && c !== CR && c !== -1) return scanResult(SCAN_IRREGULAR, pos, newlines, rows, "text after a closing quote");
        if (c === CR && !crlf) return scanResult(SCAN_IRREGULAR, pos, newlines, rows, "CR after a closing quote");
      } else {
        fStart = pos;
        while (pos < len && stop[buf[pos]!] === 0) pos++;
        fEnd = pos;
        c = pos < len ? buf[pos]! : -1;
        if (c === QUOTE) return scanResult(SCAN_IRREGULAR, pos, newlines, rows, "quote inside an unquoted field");
      }
      if (col < maxCol) {
        const k = slotOf[col]!;
        if (k >= 0) {
          fs[k] = fStart;
          fe[k] = fEnd;
        }
      }
      col++;
      if (c === COMMA) {
        pos++;
        continue;
      }
      if (c === LF) {
        if (crlf) return scanResult(SCAN_IRREGULAR, pos, newlines, rows, "LF without CR in a CRLF file");
        pos++;
        newlines++;
      } else if (c === CR) {
        if (pos + 1 >= len) return scanResult(eof ? SCAN_IRREGULAR : SCAN_NEED_MORE, pos, newlines, rows, "CR at the end");
        if (buf[pos + 1] !== LF) return scanResult(SCAN_IRREGULAR, pos, newlines, rows, "CR without LF");
        pos += 2;
        newlines++;
      } else if (!eof) return scanResult(SCAN_NEED_MORE, pos, newlines, rows);
      if (col === 1 && fEnd === fStart) break; // blank line
      sink.row(buf, fs, fe, recLine);
      rows++;
      break;
    }
  }
  return scanResult(SCAN_OK, pos, newlines, rows);
}

/** (a plain function, not a closure: captured loop variables would slow the scan down) */
function scanResult(status: number, end: number, newlines: number, rows: number, reason?: string): ScanResult {
  return { status, end, newlines, rows, reason };
}

/** What the first bytes of a file say about reading it fast. */
export type HeaderProbe =
  | { ok: true; crlf: boolean; header: string; dataStart: number }
  | { ok: false; reason: string };

/** The head papaparse guesses the newline from: the first stream chunk of parse.ts (1 MiB). */
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
  if (guessLineEndings(first) !== (crlf ? "\r\n" : "\n")) return { ok: false, reason: "papaparse would guess another newline" };
  return { ok: true, crlf, header: new TextDecoder("utf-8", { ignoreBOM: true }).decode(line), dataStart: nl + 1 };
}

/** papaparse 5's guessLineEndings with quoteChar `"`, verbatim in effect. */
export function guessLineEndings(text: string): string {
  const input = text.substring(0, 1024 * 1024).replace(/"([^]*?)"/gm, "");
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
