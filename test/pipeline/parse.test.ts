/** streamCsv / resolveColumns: RFC 4180 quotes, BOM, CRLF, header case, line numbers, bad files. */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PipelineInputError } from "../../src/pipeline/errors.ts";
import { resolveColumns } from "../../src/pipeline/read/layout.ts";
import { LineEndingCheck, streamCsv } from "../../src/pipeline/read/papaparse.ts";
import { cleanup, dataset } from "./helpers.ts";

afterAll(cleanup);

async function read(text: string, chunkBytes?: number) {
  const { root } = dataset();
  const path = join(root, "x.csv");
  writeFileSync(path, text);
  const rows: string[][] = [];
  const lines: number[] = [];
  let header: string[] = [];
  let headerLine = 0;
  const count = await streamCsv({
    path,
    file: "x.csv",
    chunkBytes,
    onHeader: (h, l) => {
      header = h;
      headerLine = l;
    },
    onRows: (r, l) => {
      rows.push(...r);
      lines.push(...l);
    },
  });
  return { header, headerLine, rows, lines, count };
}

async function inputError(text: string | null): Promise<PipelineInputError> {
  const { root } = dataset();
  const path = join(root, "x.csv");
  if (text !== null) writeFileSync(path, text);
  try {
    await streamCsv({ path, file: "x.csv", onHeader: () => {}, onRows: () => {} });
  } catch (error) {
    expect(error).toBeInstanceOf(PipelineInputError);
    return error as PipelineInputError;
  }
  throw new Error("expected a PipelineInputError");
}

describe("streamCsv", () => {
  test("BOM, CRLF, quoted commas/newlines/quotes, header case and spacing", async () => {
    const text = '\uFEFF"App", Revenue_USD ,NOTE\r\na,"4,99","line one\r\nline two"\r\nb,"1.00","say ""hi"""\r\n';
    const r = await read(text);
    expect(r.header).toEqual(["app", "revenue_usd", "note"]);
    expect(r.rows).toEqual([
      ["a", "4,99", "line one\r\nline two"],
      ["b", "1.00", 'say "hi"'],
    ]);
    // row "a" starts on line 2 and spans two lines, so "b" starts on line 4
    expect(r.lines).toEqual([2, 4]);
    expect(r.count).toBe(2);
  });

  test("blank lines are skipped and not counted; no trailing newline is fine", async () => {
    const r = await read("h1,h2\n\n1,2\n\n3,4");
    expect(r.rows).toEqual([
      ["1", "2"],
      ["3", "4"],
    ]);
    expect(r.lines).toEqual([3, 5]);
  });

  test("rows split across read chunks (tiny chunks, multi-byte UTF-8) come out whole", async () => {
    const body = Array.from({ length: 200 }, (_, i) => `u${i},"caf\u00e9 ${i}, ok",\u20ac${i}`).join("\n");
    const r = await read("id,name,price\n" + body + "\n", 7);
    expect(r.count).toBe(200);
    expect(r.rows[199]).toEqual(["u199", "caf\u00e9 199, ok", "\u20ac199"]);
    expect(r.lines[199]).toBe(201);
  });

  test("missing file, empty file, header only and bad quoting are input errors naming file and line", async () => {
    const missing = await inputError(null);
    expect(missing.message).toContain("x.csv");
    expect(missing.message).toContain("not found");
    const empty = await inputError("");
    expect(empty.message).toMatch(/x\.csv, line 1: empty file/);
    const bomOnly = await inputError("\uFEFF\r\n");
    expect(bomOnly.message).toContain("empty file");
    const headerOnly = await inputError("a,b,c\r\n");
    expect(headerOnly.message).toMatch(/x\.csv, line 1: no data rows/);
    const quotes = await inputError('a,b\n1,2\n3,"unterminated\n');
    expect(quotes.line).toBe(3);
    expect(quotes.message).toContain("quoting");
  });
});

describe("line endings", () => {
  test("a CRLF file with LF lines (two exports concatenated) is refused at the first LF line, not merged", async () => {
    const e = await inputError("a,b\r\n1,2\r\n3,4\n5,6\n");
    expect(e.message).toBe(
      "x.csv, line 3: mixed line endings: this line ends with LF, the first line with CRLF; convert the file to one line ending",
    );
  });
  test("an LF file with a CRLF line is refused too (its CR would stay in the last field)", async () => {
    const e = await inputError("a,b\n1,2\n3,4\r\n");
    expect(e.line).toBe(3);
    expect(e.detail).toMatch(/this line ends with CRLF, the first line with LF/);
  });
  test("LF and CRLF inside quoted fields are data, whatever the file's line ending; CR and LF split across chunks", async () => {
    // 7-byte reads split CR from LF; the first read holds the header line, as a real 1 MiB read does
    const r = await read('a,b\r\n1,"x\ny"\r\n2,"p\r\nq ""z"""\r\n3,4\r\n', 7);
    expect(r.rows).toEqual([
      ["1", "x\ny"],
      ["2", 'p\r\nq "z"'],
      ["3", "4"],
    ]);
    const lf = await read('a,b\n1,"x\r\ny"\n2,3\n', 7);
    expect(lf.rows).toEqual([
      ["1", "x\r\ny"],
      ["2", "3"],
    ]);
  });
  test("LineEndingCheck fed one character at a time finds the same line", () => {
    for (const [text, line] of [
      ['a,b\r\n1,"\n"\r\n2,3\n', 4],
      ['h\r\n"a\nb"\r\nc\n', 4],
      ["h\r\nx\r\n", undefined],
      ["h\nx\r\ny\n", 2],
    ] as const) {
      const whole = new LineEndingCheck();
      whole.feed(text);
      const bytewise = new LineEndingCheck();
      for (const ch of text) bytewise.feed(ch);
      expect(whole.mismatch?.line).toBe(line);
      expect(bytewise.mismatch?.line).toBe(line);
    }
  });
});

describe("resolveColumns", () => {
  test("maps names, ignores extra columns, first duplicate wins, optional -> -1", () => {
    const cols = resolveColumns("f.csv", ["extra", "b", "a", "b"], 1, ["a", "b"], ["c"]);
    expect(cols).toEqual({ a: 2, b: 1, c: -1 });
  });
  test("a missing required column names file, line and column", () => {
    expect(() => resolveColumns("f.csv", ["a"], 1, ["a", "receipt_id"])).toThrow(
      /f\.csv, line 1, column receipt_id: missing required column/,
    );
  });
});
