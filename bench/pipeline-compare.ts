/**
 * Output comparison for `bun run bench:pipeline`: two reports folders, file by file. The small
 * JSON files and the reconciliation summary are compared value by value (every row, every number
 * after rounding) so a difference reads as "roas_d1.json[2].roas: 0.905021 vs 0.905022"; the big
 * files (purchases_curated.csv, reconciliation.json) byte by byte, reporting the first differing line.
 */
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { OUTPUT_FILES } from "../src/pipeline/run/steps.ts";

/** The data outputs both sides write (index.html is ours only). */
const DATA_OUTPUTS = OUTPUT_FILES.filter((name) => name !== "index.html");
/** Compared value by value. */
const VALUE_FILES = ["quality.json", "roas_d1.json", "roas_anomaly.json", "arpdau_d1.json"];
/** Compared byte by byte. */
const BYTE_FILES = ["purchases_curated.csv", "reconciliation.json", "index.html"];

/** The outcome of one comparison: no differences means equal. */
export interface Comparison {
  left: string;
  right: string;
  files: string[];
  differences: string[];
}

const CHUNK = 4 << 20;

/** Reads the whole file when small, else the first `limit` bytes. */
function head(path: string, limit: number): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(limit);
    const n = readSync(fd, buf, 0, limit, 0);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** The summary object at the top of reconciliation.json (read from its first bytes, not the whole file). */
export function reconciliationSummary(path: string): Record<string, unknown> {
  const text = head(path, 4096);
  const match = /"summary":\s*(\{[^}]*\})/.exec(text);
  if (!match) throw new Error(`${path}: no summary object in the first 4 KiB`);
  return JSON.parse(match[1]!) as Record<string, unknown>;
}

/** Data lines of a CSV with a header (newline count minus one), counted while scanning. */
export function countLines(path: string): number {
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(CHUNK);
  let lines = 0;
  try {
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      for (let at = buf.indexOf(10, 0); at !== -1 && at < n; at = buf.indexOf(10, at + 1)) lines++;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return lines - 1;
}

/** The line holding byte `offset` and its 1-based number. */
function lineAt(path: string, offset: number): { line: number; text: string } {
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(CHUNK);
  let line = 1,
    lineStart = 0;
  try {
    for (let pos = 0; pos < offset; ) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, offset - pos), pos);
      if (n === 0) break;
      for (let at = buf.indexOf(10, 0); at !== -1 && at < n; at = buf.indexOf(10, at + 1)) {
        line++;
        lineStart = pos + at + 1;
      }
      pos += n;
    }
    const n = readSync(fd, buf, 0, 4096, lineStart);
    const text = buf.subarray(0, n).toString("utf8").split("\n")[0]!;
    return { line, text: text.length > 300 ? text.slice(0, 300) + "..." : text };
  } finally {
    closeSync(fd);
  }
}

/** Byte comparison; null when equal, else where the first difference is. */
export function firstByteDifference(a: string, b: string): string | null {
  const fa = openSync(a, "r"),
    fb = openSync(b, "r");
  const ba = Buffer.alloc(CHUNK),
    bb = Buffer.alloc(CHUNK);
  try {
    for (let pos = 0; ; pos += CHUNK) {
      const na = readSync(fa, ba, 0, CHUNK, pos),
        nb = readSync(fb, bb, 0, CHUNK, pos);
      if (na === nb && ba.subarray(0, na).equals(bb.subarray(0, nb))) {
        if (na === 0) return null;
        continue;
      }
      let i = 0;
      while (i < na && i < nb && ba[i] === bb[i]) i++;
      const offset = pos + i;
      const la = lineAt(a, offset),
        lb = lineAt(b, offset);
      return `first difference at byte ${offset}, line ${la.line}:\n      left : ${JSON.stringify(la.text)}\n      right: ${JSON.stringify(lb.text)}`;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/** Value differences between two parsed JSON values, as "path: left vs right" (at most `max`). */
export function valueDifferences(path: string, a: unknown, b: unknown, out: string[] = [], max = 20): string[] {
  if (out.length >= max) return out;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: ${a.length} rows vs ${b.length} rows`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) valueDifferences(`${path}[${i}]`, a[i], b[i], out, max);
  } else if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys)
      valueDifferences(`${path}.${k}`, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], out, max);
  } else if (a !== b) {
    out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  return out;
}

/**
 * Compares two reports folders: the summary and small files by value, the big files by bytes.
 * `files` limits the comparison (default: the six data outputs).
 */
export function compareOutputs(left: string, right: string, files: readonly string[] = DATA_OUTPUTS): Comparison {
  const differences: string[] = [];
  for (const file of files) {
    const a = join(left, file),
      b = join(right, file);
    if (!existsSync(a) || !existsSync(b)) {
      differences.push(`${file}: missing on the ${existsSync(a) ? "right" : "left"}`);
      continue;
    }
    if (file === "reconciliation.json") {
      for (const d of valueDifferences(
        "reconciliation.json summary",
        reconciliationSummary(a),
        reconciliationSummary(b),
      ))
        differences.push(d);
    }
    if (file === "purchases_curated.csv") {
      const na = countLines(a),
        nb = countLines(b);
      if (na !== nb) differences.push(`purchases_curated.csv: ${na} curated rows vs ${nb}`);
    }
    if (VALUE_FILES.includes(file)) {
      const parse = (p: string) => JSON.parse(head(p, 64 << 20)) as unknown;
      for (const d of valueDifferences(file, parse(a), parse(b))) differences.push(d);
    }
    if (BYTE_FILES.includes(file) || VALUE_FILES.includes(file)) {
      const d = firstByteDifference(a, b);
      if (d) differences.push(`${file}: bytes differ, ${d}`);
    }
  }
  return { left, right, files: [...files], differences };
}
