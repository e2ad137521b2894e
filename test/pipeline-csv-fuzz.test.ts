/**
 * Fuzzing the pipeline's CSV side: random mutations of valid input files (cut lines, stray quotes,
 * binary bytes, 1 MB fields, other encodings, lost headers) must end in a successful run (bad rows
 * quarantined in quality.json) or a PipelineInputError (the CLI's exit 2), never another error or a hang.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type Piscina from "piscina";
import { PipelineInputError } from "../src/pipeline/errors";
import { createPipelinePool, runPipeline } from "../src/pipeline/run";

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const FILES = ["purchases_raw.csv", "confirmed_purchases.csv", "costs_daily.csv", "sessions.csv"];

let base: string;
let pool: Piscina;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "csv-fuzz-base-"));
  const generated = Bun.spawnSync({
    cmd: [
      process.execPath,
      "scripts/gen-data.ts",
      "--out",
      base,
      "--purchases",
      "200",
      "--seed",
      "7",
      "--days",
      "10",
      "--quiet",
    ],
  });
  if (generated.exitCode !== 0) throw new Error(`gen-data failed: ${generated.stderr}`);
  pool = createPipelinePool(1);
});
afterAll(async () => {
  await pool?.destroy();
  rmSync(base, { recursive: true, force: true });
});

type Mutation = (bytes: Buffer, at: number, extra: Uint8Array) => Buffer;
const mutations: Record<string, Mutation> = {
  cut: (b, at) => b.subarray(0, at),
  strayQuote: (b, at) => Buffer.concat([b.subarray(0, at), Buffer.from('"'), b.subarray(at)]),
  binary: (b, at, extra) => Buffer.concat([b.subarray(0, at), Buffer.from(extra), b.subarray(at)]),
  hugeField: (b, at) => Buffer.concat([b.subarray(0, at), Buffer.from("x".repeat(1024 * 1024)), b.subarray(at)]),
  latin1: (b) => Buffer.from(b.toString("utf8").replace(/a/g, "\u00e4"), "latin1"),
  utf16: (b) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(b.toString("utf8"), "utf16le")]),
  noHeader: (b) => b.subarray(b.indexOf(10) + 1),
  semicolons: (b) => Buffer.from(b.toString("utf8").replace(/,/g, ";")),
  duplicateLines: (b, at) => {
    const lines = b.toString("utf8").split("\n");
    const i = 1 + (at % Math.max(1, lines.length - 1));
    return Buffer.from([...lines.slice(0, i), lines[i], lines[i], ...lines.slice(i)].join("\n"));
  },
  emptyFile: () => Buffer.alloc(0),
};

describe("pipeline CSV fuzz", () => {
  test("a mutated input file ends in success or a PipelineInputError naming the file, never a crash or a hang", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FILES),
        fc.constantFrom(...Object.keys(mutations)),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        async (file, mutation, position, extra) => {
          const dir = mkdtempSync(join(tmpdir(), "csv-fuzz-"));
          try {
            for (const name of FILES) copyFileSync(join(base, name), join(dir, name));
            const original = readFileSync(join(base, file));
            writeFileSync(
              join(dir, file),
              mutations[mutation](original, Math.floor(position * original.length), extra),
            );
            const outDir = join(dir, "reports");
            const run = runPipeline({ dataDir: dir, outDir, toleranceMin: 10, workers: 1, pool });
            const outcome = await Promise.race([
              run.then(
                () => "ok",
                (error) => error,
              ),
              Bun.sleep(30_000).then(() => new Error("pipeline hung for 30 s")),
            ]);
            if (outcome === "ok") {
              const quality = JSON.parse(readFileSync(join(outDir, "quality.json"), "utf8"));
              expect(Object.keys(quality.files).sort()).toEqual([...FILES].sort());
            } else {
              expect(outcome).toBeInstanceOf(PipelineInputError);
              expect((outcome as PipelineInputError).message.length).toBeGreaterThan(0);
              expect(existsSync(join(outDir, "quality.json"))).toBe(false); // nothing half-written
            }
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 300_000);
});
