/** streamCsv / resolveColumns: RFC 4180 quotes, BOM, CRLF, header case, line numbers, bad files. */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PipelineInputError } from "../../src/pipeline/errors.ts";
import { resolveColumns, streamCsv } from "../../src/pipeline/parse.ts";
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
    expect(r.rows).toEqual([["1", "2"], ["3", "4"]]);
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

describe("resolveColumns", () => {
  test("maps names, ignores extra columns, first duplicate wins, optional -> -1", () => {
    const cols = resolveColumns("f.csv", ["extra", "b", "a", "b"], 1, ["a", "b"], ["c"]);
    expect(cols).toEqual({ a: 2, b: 1, c: -1 });
  });
  test("a missing required column names file, line and column", () => {
    expect(() => resolveColumns("f.csv", ["a"], 1, ["a", "receipt_id"])).toThrow(/f\.csv, line 1, column receipt_id: missing required column/);
  });
});
