/**
 * The fast byte reader (read/csvfast.ts) against papaparse, the RFC 4180 authority: whenever the fast
 * reader takes a file, its rows and line numbers are papaparse's, and a file read in many small
 * speculative segments gives the same table as the same file read whole through papaparse.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { decodeBytes } from "../../src/pipeline/columns/bytes.ts";
import { PipelineInputError } from "../../src/pipeline/errors.ts";
import {
  parseDate,
  parseDateBytes,
  parseMoney,
  parseMoneyBytes,
  parseTime,
  parseTimeBytes,
} from "../../src/pipeline/normalise.ts";
import {
  guessLineEndings,
  isUtf8,
  PROBE_BYTES,
  probeHeader,
  type RowSink,
  SCAN_OK,
  scanInto,
} from "../../src/pipeline/read/csvfast.ts";
import { readWhole } from "../../src/pipeline/read/fallback.ts";
import { normaliseHeader } from "../../src/pipeline/read/layout.ts";
import { mergeSegments } from "../../src/pipeline/read/merge.ts";
import { streamCsv } from "../../src/pipeline/read/papaparse.ts";
import { chainSegments, noDataCheck, planRead, segmentTasks } from "../../src/pipeline/read/plan.ts";
import { readSegment, type SegmentTask } from "../../src/pipeline/read/segment.ts";
import { FILES, type FileKind, type Loaded } from "../../src/pipeline/tables.ts";

let dir: string;
let base: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "csvfast-"));
  base = join(dir, "base");
  const generated = Bun.spawnSync({
    cmd: [
      process.execPath,
      "scripts/gen-data.ts",
      "--out",
      base,
      "--purchases",
      "300",
      "--seed",
      "11",
      "--days",
      "10",
      "--quiet",
    ],
  });
  if (generated.exitCode !== 0) throw new Error(`gen-data failed: ${generated.stderr}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WIDTH = 16;

/** Rows as papaparse gives them through read/papaparse.ts (blank lines dropped), cells padded to WIDTH. */
async function papaRows(path: string): Promise<{ rows: string[][]; lines: number[] } | "error"> {
  const rows: string[][] = [];
  const lines: number[] = [];
  try {
    await streamCsv({
      path,
      file: "x.csv",
      onHeader: (h, l) => {
        rows.push(h);
        lines.push(l);
      },
      onRows: (r, l) => {
        for (const row of r) rows.push(row);
        lines.push(...l);
      },
    });
  } catch (error) {
    if (error instanceof PipelineInputError) return "error";
    throw error;
  }
  return { rows: rows.map((r, i) => (i === 0 ? r : pad(r))), lines };
}

const pad = (row: string[]) => Array.from({ length: WIDTH }, (_, k) => row[k] ?? "");

/** Rows as the fast reader gives them (the whole data part in one scan), or null when it does not take the file. */
function fastRows(bytes: Uint8Array): { rows: string[][]; lines: number[] } | null {
  const probe = probeHeader(bytes.subarray(0, PROBE_BYTES), bytes.length);
  if (!probe.ok) return null;
  const rows: string[][] = [probe.header.split(",").map(normaliseHeader)];
  const lineNumbers: number[] = [1];
  const sink: RowSink = {
    rows(buf, fs, fe, lines, count, slots) {
      for (let r = 0; r < count; r++) {
        rows.push(Array.from({ length: slots }, (_, k) => decodeBytes(buf, fs[r * slots + k]!, fe[r * slots + k]!)));
        lineNumbers.push(lines[r]! + 2);
      }
    },
  };
  const slotOf = Int32Array.from({ length: WIDTH }, (_, k) => k);
  const data = bytes.slice(probe.dataStart);
  const sc = scanInto(data, 0, data.length, true, probe.crlf, slotOf, WIDTH, sink);
  if (sc.status !== SCAN_OK) return null;
  if (!isUtf8(bytes)) return null; // not UTF-8: the loaders fall back
  return { rows, lines: lineNumbers };
}

let n = 0;
async function compareRows(text: Uint8Array | string): Promise<boolean> {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const path = join(dir, `rows-${n++}.csv`);
  writeFileSync(path, bytes);
  const fast = fastRows(bytes);
  if (fast === null) return false;
  const papa = await papaRows(path);
  if (fast.rows.length === 1) {
    expect(papa).toBe("error"); // header only: the loaders' "no data rows" error either way
    return true;
  }
  if (papa === "error")
    throw new Error(
      `fast reader took a file papaparse rejects: ${JSON.stringify(new TextDecoder().decode(bytes).slice(0, 300))}`,
    );
  // the header as read/layout.ts normalises it
  expect(fast.rows[0]).toEqual(papa.rows[0]!);
  expect(fast.rows.slice(1)).toEqual(papa.rows.slice(1));
  expect(fast.lines).toEqual(papa.lines);
  return true;
}

describe("fast reader = papaparse", () => {
  test("hand-picked regular files", async () => {
    const cases = [
      "a,b,c\n1,2,3\n4,5,6\n",
      "a,b,c\n1,2,3\n4,5,6", // no final newline
      "\uFEFFa,b\r\n1,2\r\n\r\n3,4\r\n", // BOM, CRLF, blank line
      'a,b\n"x, y","say ""hi"""\n"multi\nline",z\n"",\n\n""\nq,"\r"\n', // quotes, embedded newline and CR, blank rows
      'a,b\r\n"one\r\ntwo",3\r\n"lone\nLF in quotes",4\r\n',
      "a,b\nx\n1,2,3,4\n,\n", // short and long rows
      "h\n\u00e9t\u00e9,\u20ac\n\ud83d\ude00\n", // multi-byte UTF-8
    ];
    // several scanner batches, with quoted newlines and escaped quotes along the way
    cases.push(
      "id,note,n\n" +
        Array.from({ length: 5000 }, (_, i) =>
          i % 7 === 0 ? `u${i},"multi\nline ""${i}""",${i}` : `u${i},plain ${i},${i}`,
        ).join("\n") +
        "\n",
    );
    for (const text of cases) expect(await compareRows(text)).toBe(true);
  });

  test("irregular files are left to papaparse", async () => {
    for (const text of [
      'a,b\nx"y,1\n',
      'a,b\n"x"y,1\n',
      'a,b\n"open,1\n',
      "a,b\r\n1,2\n3,4\r\n",
      '"a",b\n1,2\n',
      "\na,b\n1,2\n",
      'a,b\n"x" ,1\n',
      "a,b\n1,2\r\n3,4\n",
    ]) {
      expect(await compareRows(text)).toBe(false);
    }
    expect(await compareRows(new Uint8Array([0x61, 0x2c, 0x62, 0x0a, 0xe4, 0x2c, 0x31, 0x0a]))).toBe(false); // Latin-1
  });

  test("random CSV text: whenever the fast reader takes it, papaparse agrees", async () => {
    const cell = fc.oneof(
      {
        arbitrary: fc.stringMatching(/^[a-z0-9 .,;:\-+éü€]{0,6}$/).map((s) => (/[",\r\n]/.test(s) ? '"' + s + '"' : s)),
        weight: 6,
      },
      { arbitrary: fc.stringMatching(/^[a-z"\r\n, ]{0,6}$/).map((s) => '"' + s.replace(/"/g, '""') + '"'), weight: 3 },
      { arbitrary: fc.stringMatching(/^[a-z"\r\n, ]{0,4}$/), weight: 1 }, // raw: often irregular
    );
    const nl = fc.constantFrom("\n", "\r\n");
    let taken = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 12 }),
        nl,
        fc.boolean(),
        async (rows, eol, bom) => {
          const text = (bom ? "\uFEFF" : "") + "h1,h2,h3" + eol + rows.map((r) => r.join(",")).join(eol) + eol;
          if (await compareRows(text)) taken++;
        },
      ),
      { numRuns: 400, seed: 20261125 },
    );
    expect(taken).toBeGreaterThan(150);
  });
});

/** Everything a table holds, comparable with toEqual. */
function digest(l: Loaded): unknown {
  const out: Record<string, unknown> = { quality: l.quality, usable: l.usable };
  for (const [k, v] of Object.entries(l.table)) {
    if (ArrayBuffer.isView(v)) out[k] = Array.from(v as unknown as ArrayLike<number>);
    else if (v && typeof v === "object" && "bytes" in v)
      out[k] = [Array.from(v.bytes as Uint8Array), Array.from(v.offsets as Uint32Array)];
    else out[k] = v;
  }
  return out;
}

/** The file read in speculative segments of `bytes` each (this thread), or null when the fast reader does not take it. */
async function readInSegments(kind: FileKind, path: string, bytes: number): Promise<Loaded | "error" | null> {
  try {
    const plan = await planRead(kind, path);
    if (!plan.fast) return null;
    const tasks = segmentTasks(kind, path, plan, undefined, bytes);
    const run = (t: SegmentTask) => Promise.resolve(readSegment(t));
    const segments = await chainSegments(plan, tasks, tasks.map(run), run);
    if (!segments) return null;
    noDataCheck(kind, plan, segments);
    return mergeSegments(kind, segments);
  } catch (error) {
    if (error instanceof PipelineInputError) return "error";
    throw error;
  }
}

async function readWithPapa(kind: FileKind, path: string): Promise<Loaded | "error"> {
  try {
    return mergeSegments(kind, [await readWhole(kind, path, undefined)]);
  } catch (error) {
    if (error instanceof PipelineInputError) return "error";
    throw error;
  }
}

describe("segments = papaparse, table for table", () => {
  const kinds = Object.keys(FILES) as FileKind[];
  test("generated files and mutations of them, in segments of a few bytes to a few KB", async () => {
    const mutations: Record<string, (b: Buffer, at: number) => Buffer> = {
      none: (b) => b,
      cut: (b, at) => b.subarray(0, at),
      strayQuote: (b, at) => Buffer.concat([b.subarray(0, at), Buffer.from('"'), b.subarray(at)]),
      newlineInQuotes: (b, at) => {
        const text = b.toString("utf8");
        const q = text.indexOf('"', at);
        return q === -1 ? b : Buffer.from(text.slice(0, q + 1) + "\n\n" + text.slice(q + 1));
      },
      blankLines: (b, at) => Buffer.concat([b.subarray(0, at), Buffer.from("\n\n"), b.subarray(at)]),
      crlf: (b) => Buffer.from(b.toString("utf8").replace(/\r?\n/g, "\r\n")),
      lf: (b) => Buffer.from(b.toString("utf8").replace(/\r\n/g, "\n")),
    };
    let fastTaken = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...kinds),
        fc.constantFrom(...Object.keys(mutations)),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(7, 61, 500, 4096),
        async (kind, mutation, position, segmentBytes) => {
          const original = readFileSync(join(base, FILES[kind]));
          const bytes = mutations[mutation]!(original, Math.floor(position * original.length));
          const path = join(dir, `seg-${n++}-${FILES[kind]}`);
          writeFileSync(path, bytes);
          const fast = await readInSegments(kind, path, segmentBytes);
          if (fast === null) return;
          fastTaken++;
          const papa = await readWithPapa(kind, path);
          if (fast === "error" || papa === "error") {
            expect(fast).toBe(papa);
            return;
          }
          expect(digest(fast)).toEqual(digest(papa));
        },
      ),
      { numRuns: 150, seed: 7 },
    );
    expect(fastTaken).toBeGreaterThan(50);
  }, 120_000);
});

test("papaparse's newline guess is reproduced", () => {
  expect(guessLineEndings("a,b\r\n1,2\r\n")).toBe("\r\n");
  expect(guessLineEndings("a,b\n1,2\r\n")).toBe("\n");
  expect(guessLineEndings('a,b\r"x\r\n",1\r')).toBe("\r");
  expect(guessLineEndings("a,b")).toBe("\n");
});

describe("byte parsers = string parsers", () => {
  const same = (a: number, b: number) => (a !== a ? b !== b : a === b);
  const enc = new TextEncoder();
  test("parseTimeBytes, parseMoneyBytes, parseDateBytes agree with the string versions", () => {
    const timeLike = fc.oneof(
      fc
        .tuple(
          fc.integer({ min: 0, max: 9999 }),
          fc.integer({ min: 0, max: 13 }),
          fc.integer({ min: 0, max: 32 }),
          fc.constantFrom("T", " ", "t", "x"),
          fc.integer({ min: 0, max: 25 }),
          fc.integer({ min: 0, max: 61 }),
          fc.oneof(
            fc.constant(""),
            fc.integer({ min: 0, max: 61 }).map((s) => ":" + String(s).padStart(2, "0")),
          ),
          fc.constantFrom("", ".123", ",5", ".", "Z", "z", "+01:00", "-0530", "+25:00", "Zjunk", " ", "\u00a0"),
          fc.constantFrom("", " ", "\t", "\u00a0"),
        )
        .map(
          ([y, m, d, t, h, mi, s, tail, pad]) =>
            pad +
            String(y).padStart(4, "0") +
            "-" +
            String(m).padStart(2, "0") +
            "-" +
            String(d).padStart(2, "0") +
            t +
            String(h).padStart(2, "0") +
            ":" +
            String(mi).padStart(2, "0") +
            s +
            tail +
            pad,
        ),
      fc.string({ maxLength: 30 }),
    );
    const moneyLike = fc.oneof(
      fc.stringMatching(/^[ +-]?[0-9.,]{0,12} ?$/),
      fc.string({ maxLength: 12 }),
      fc.constantFrom(" 4,99", "\u00a04.99", "1.234,56", "$4.99", "1e3"),
    );
    const dateLike = fc.oneof(
      fc.stringMatching(/^ ?[0-9]{4}-[0-9]{2}-[0-9]{2} ?$/),
      fc.string({ maxLength: 12 }),
      fc.constantFrom("\u00a02025-01-01", "2024-02-29", "2023-02-29"),
    );
    fc.assert(
      fc.property(timeLike, moneyLike, dateLike, (t, m, d) => {
        const tb = enc.encode(t),
          mb = enc.encode(m),
          db = enc.encode(d);
        expect(same(parseTimeBytes(tb, 0, tb.length), parseTime(t))).toBe(true);
        expect(same(parseMoneyBytes(mb, 0, mb.length), parseMoney(m))).toBe(true);
        expect(same(parseDateBytes(db, 0, db.length), parseDate(d))).toBe(true);
      }),
      { numRuns: 5000, seed: 42 },
    );
  });
});
