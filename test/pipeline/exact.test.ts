/** SPEC 4 rule 11 / 4.1: rounding half away from zero, applied once to exact values. */
import { describe, expect, test } from "bun:test";
import { addRatio, divRatio, lessThan, ratio, roundRatio, usd, usdText } from "../../src/pipeline/exact.ts";

describe("usd (micro-dollars to 2 decimals)", () => {
  test.each([
    [4_990_000, 4.99],
    [1_005_000, 1.01], // 1.005 exactly: half away from zero -> 1.01 (the float 1.005 is 1.00499.. and would give 1.00)
    [1_004_999, 1],
    [-1_005_000, -1.01], // away from zero on the negative side too
    [-4_999, 0], // -0.004999 -> 0 (never -0)
    [5_000, 0.01],
    [0, 0],
    [123_456_789_012_345, 123_456_789.01],
  ])("%p -> %p", (micro, value) => {
    expect(Object.is(usd(micro), value)).toBe(true);
  });
  test("refuses a total beyond exact integer range", () => {
    expect(() => usd(2 ** 53 + 2)).toThrow(RangeError);
  });
});

describe("roundRatio (6 decimals)", () => {
  test.each([
    [1, 3, 0.333333],
    [2, 3, 0.666667],
    [1, 8, 0.125],
    [1, 2_000_000, 0.000001], // 0.0000005 exactly -> up (half away from zero)
    [-1, 2_000_000, -0.000001],
    [1, 2_000_001, 0], // just under half
    [7, 7, 1],
  ])("%p / %p -> %p", (a, b, value) => {
    expect(roundRatio(ratio(a, b), 6)).toBe(value);
  });

  test("means and comparisons are exact, not float", () => {
    // (1/3 + 2/3) / 2 = 1/2 exactly
    const mean = divRatio(addRatio(ratio(1, 3), ratio(2, 3)), 2);
    expect(lessThan(ratio(1, 2), mean)).toBe(false);
    expect(lessThan(mean, ratio(1, 2))).toBe(false);
    expect(lessThan(ratio(499_999, 1_000_000), mean)).toBe(true);
  });
});

test("usdText prints exactly what JSON.stringify(usd(x)) prints", () => {
  const samples = [
    0, 1, -1, 4_990_000, 5_000_000, 100_000, 10_000, 5_000, -5_000, 4_999, -4_999, 1_005_000, -1_005_000,
    123_456_789_012_345, -90_000, 1_230_000,
  ];
  for (let i = 0; i < 2_000; i++) samples.push(Math.round(Math.sin(i) * 10 ** (i % 12) * 1000) * (i % 3 === 0 ? 1 : 7));
  for (const micro of samples) expect(usdText(micro)).toBe(JSON.stringify(usd(micro)));
});
