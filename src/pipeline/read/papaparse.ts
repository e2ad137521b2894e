/**
 * Streaming CSV reading (papaparse over a file stream): RFC 4180 quotes, BOM, CRLF, header names
 * trimmed and case-insensitive. Rows reach the caller chunk by chunk, so a file's text and its
 * rows are never held at once.
 */
import { createReadStream } from "node:fs";
import Papa from "papaparse";
import { PipelineInputError } from "../errors.ts";
import { inputSize } from "./io.ts";
import { normaliseHeader } from "./layout.ts";

/** Called with each chunk of data rows and the 1-based line where each row starts. */
type RowsHandler = (rows: string[][], lines: Float64Array) => void;

/** Called once with the normalised header (trimmed, lower-cased) and its line. */
type HeaderHandler = (header: string[], line: number) => void;

/** Reports read progress: characters read so far, file size in bytes, data rows so far. */
export type ReadProgress = (charsRead: number, fileBytes: number, rows: number) => void;

export interface StreamCsvOptions {
  /** path on disk */
  path: string;
  /** name used in error messages */
  file: string;
  onHeader: HeaderHandler;
  onRows: RowsHandler;
  onProgress?: ReadProgress;
  /** read size; bigger chunks mean fewer papaparse calls */
  chunkBytes?: number;
}

/** Lines a row spans beyond its first: newlines inside quoted fields. */
function extraLines(row: string[]): number {
  let extra = 0;
  for (let i = 0; i < row.length; i++) {
    const cell = row[i]!;
    let at = cell.indexOf("\n");
    while (at !== -1) {
      extra++;
      at = cell.indexOf("\n", at + 1);
    }
  }
  return extra;
}

/**
 * Watches the raw text for a line ending (CRLF or LF) other than the first line's. papaparse
 * guesses one newline for the whole file, so in a CRLF file LF lines (two exports concatenated)
 * would be merged into the row before, and in an LF file a CRLF line would keep its CR in the last
 * field (an id that no longer matches): both are refused instead, naming the line. Quote parity
 * tells data from structure: in RFC 4180 text an escaped `""` keeps it.
 */
export class LineEndingCheck {
  private inQuotes = false;
  private crlf: boolean | undefined;
  private lastChar = "";
  /** physical line being read (1-based), counting every LF */
  private line = 1;
  /** the first line whose ending differs from the first line's */
  mismatch: { line: number; detail: string } | undefined;

  /** Feeds the next chunk of text; stops looking after the first mismatch. */
  feed(chunk: string): void {
    if (this.mismatch || chunk.length === 0) return;
    let quote = chunk.indexOf('"');
    let lf = chunk.indexOf("\n");
    while (lf !== -1) {
      // every quote before this LF flips the parity
      while (quote !== -1 && quote < lf) {
        this.inQuotes = !this.inQuotes;
        quote = chunk.indexOf('"', quote + 1);
      }
      if (!this.inQuotes) {
        const crlf = (lf > 0 ? chunk[lf - 1] : this.lastChar) === "\r";
        if (this.crlf === undefined) this.crlf = crlf;
        else if (crlf !== this.crlf) {
          const [has, first] = crlf ? ["CRLF", "LF"] : ["LF", "CRLF"];
          const detail =
            `mixed line endings: this line ends with ${has}, the first line with ${first}; ` +
            "convert the file to one line ending";
          this.mismatch = { line: this.line, detail };
          return;
        }
      }
      this.line++;
      lf = chunk.indexOf("\n", lf + 1);
    }
    while (quote !== -1) {
      this.inQuotes = !this.inQuotes;
      quote = chunk.indexOf('"', quote + 1);
    }
    this.lastChar = chunk[chunk.length - 1]!;
  }
}

/**
 * Streams a CSV file through papaparse (no dynamic typing, `,` delimiter, `"` quotes).
 * Blank lines are skipped and not counted. Missing file, empty file and header-only file are
 * PipelineInputErrors; so is malformed quoting, named by line. Resolves with the data row count.
 */
export async function streamCsv(options: StreamCsvOptions): Promise<number> {
  const { path, file, onHeader, onRows, onProgress } = options;
  const size = await inputSize(path, file);

  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: options.chunkBytes ?? 1 << 20 });
  let charsRead = 0;
  // Quote-free text cannot hold embedded newlines, so line counting stays O(rows) until a quote shows up.
  let sawQuote = false;
  const lineEndings = new LineEndingCheck();
  // registered before papaparse's own listener, so a mismatch is known before its rows are
  stream.on("data", (chunk) => {
    charsRead += chunk.length;
    if (!sawQuote && (chunk as string).indexOf('"') !== -1) sawQuote = true;
    lineEndings.feed(chunk as string);
  });

  let line = 1;
  let headerSeen = false;
  let headerLine = 0;
  let dataRows = 0;

  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown, parser?: Papa.Parser) => {
      if (settled) return;
      settled = true;
      parser?.abort();
      stream.destroy();
      reject(error);
    };

    Papa.parse<string[]>(stream as unknown as Papa.LocalFile, {
      delimiter: ",",
      quoteChar: '"',
      escapeChar: '"',
      header: false,
      dynamicTyping: false,
      skipEmptyLines: false,
      beforeFirstChunk: (chunk) => (chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk),
      chunk: (results, parser) => {
        if (settled) return;
        try {
          const mixed = lineEndings.mismatch;
          if (mixed) throw new PipelineInputError(file, mixed.line, undefined, mixed.detail);
          const rows = results.data;
          const lines = new Float64Array(rows.length);
          const keep: string[][] = [];
          const keepLines: number[] = [];
          for (let r = 0; r < rows.length; r++) {
            const row = rows[r]!;
            lines[r] = line;
            line += sawQuote ? 1 + extraLines(row) : 1;
            if (row.length === 1 && row[0] === "") continue; // blank line
            if (!headerSeen) {
              headerSeen = true;
              headerLine = lines[r]!;
              onHeader(row.map(normaliseHeader), headerLine);
              continue;
            }
            keep.push(row);
            keepLines.push(lines[r]!);
          }
          const quoteError = results.errors.find((e) => e.type === "Quotes");
          if (quoteError) {
            const at = quoteError.row !== undefined && quoteError.row < rows.length ? lines[quoteError.row] : line;
            throw new PipelineInputError(file, at, undefined, `malformed CSV quoting: ${quoteError.message}`);
          }
          if (keep.length > 0) {
            dataRows += keep.length;
            onRows(keep, Float64Array.from(keepLines));
          }
          onProgress?.(charsRead, size, dataRows);
        } catch (error) {
          fail(error, parser);
        }
      },
      complete: () => {
        if (settled) return;
        const mixed = lineEndings.mismatch;
        if (mixed) return fail(new PipelineInputError(file, mixed.line, undefined, mixed.detail));
        if (!headerSeen) return fail(new PipelineInputError(file, 1, undefined, "empty file (no header row)"));
        if (dataRows === 0) {
          return fail(new PipelineInputError(file, headerLine, undefined, "no data rows (header only)"));
        }
        settled = true;
        resolve(dataRows);
      },
      error: (error: Error) =>
        fail(new PipelineInputError(file, undefined, undefined, `cannot read file: ${error.message}`)),
    });
  });
}
