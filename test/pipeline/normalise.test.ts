/** SPEC 4 rule 1 and 4.1 parsing: money, times, dates, campaigns, canonical formats. */
import { describe, expect, test } from "bun:test";
import {
  formatDate,
  formatMicro,
  formatTime,
  normaliseCampaign,
  normaliseKeyword,
  parseDate,
  parseMoney,
  parseTime,
} from "../../src/pipeline/normalise.ts";

describe("parseMoney (integer micro-dollars)", () => {
  test.each([
    ["4.99", 4_990_000],
    ["4,99", 4_990_000], // a lone comma is the decimal separator
    [" 4,99 ", 4_990_000], // trimmed
    ["1,234.56", 1_234_560_000], // both: the last one (.) is decimal, "," groups thousands
    ["1.234,56", 1_234_560_000], // both: the last one (,) is decimal
    ["1.234.567,8", 1_234_567_800_000],
    ["1,234", 1_234_000], // lone comma = decimal: 1.234, not 1234
    ["0", 0],
    ["-2.5", -2_500_000],
    ["+3", 3_000_000],
    [".5", 500_000],
    ["7.", 7_000_000],
    ["0.000001", 1],
    ["0.0000005", 1], // beyond micro resolution: half away from zero
    ["0.0000004999", 0],
    ["-0.0000005", -1],
  ])("%p -> %p", (raw, micro) => {
    expect(parseMoney(raw)).toBe(micro);
  });

  test.each([
    "",
    "   ",
    "NaN",
    "1e3",
    "$4.99",
    "4.99$",
    "abc",
    "1,234,567",
    "1.2.3",
    "1,2.5",
    "12,34.5",
    "4 99",
    "-",
    "+",
    ".",
    "Infinity",
    "0x10",
    "1.234,5.6",
  ])("%p is unparseable", (raw) => {
    expect(parseMoney(raw)).toBeNaN();
  });

  test("sums stay exact where floats drift", () => {
    // 0.1 + 0.2 as floats is 0.30000000000000004; as micro-dollars 100000 + 200000 = 300000
    expect(parseMoney("0.1") + parseMoney("0.2")).toBe(parseMoney("0.3"));
  });
});

describe("parseTime (epoch seconds, UTC)", () => {
  const at = (iso: string) => Date.parse(iso) / 1000;
  test.each([
    ["2025-01-05T10:00:00Z", "2025-01-05T10:00:00Z"],
    ["2025-01-05T10:00:00", "2025-01-05T10:00:00Z"], // no offset = UTC
    ["2025-01-05 10:00:00", "2025-01-05T10:00:00Z"], // space instead of T
    ["2025-01-05T10:00:00.999Z", "2025-01-05T10:00:00Z"], // fraction truncated, not rounded
    ["2025-01-05T00:30:00+02:00", "2025-01-04T22:30:00Z"], // offset applied: previous UTC day
    ["2025-01-05T23:30:00-0130", "2025-01-06T01:00:00Z"],
    ["2025-01-05T10:00Z", "2025-01-05T10:00:00Z"], // seconds optional
    ["2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"], // leap day
    [" 2025-01-05T10:00:00Z ", "2025-01-05T10:00:00Z"],
  ])("%p -> %p", (raw, canonical) => {
    expect(parseTime(raw)).toBe(at(canonical));
    expect(formatTime(parseTime(raw))).toBe(canonical);
  });

  test.each([
    "",
    "2025-02-30T10:00:00Z",
    "2023-02-29T00:00:00Z",
    "2025-13-01T00:00:00Z",
    "2025-01-05T24:00:00Z",
    "2025-01-05T10:60:00Z",
    "2025-01-05T10:00:60Z",
    "2025-01-05",
    "2025-01-05T10",
    "05/01/2025 10:00",
    "2025-1-5T10:00:00Z",
    "2025-01-05T10:00:00+25:00",
    "2025-01-05T10:00:00Zjunk",
    "1736071200",
    "2025-01-05T10:00:00.",
  ])("%p is a bad time", (raw) => {
    expect(parseTime(raw)).toBeNaN();
  });
});

describe("parseDate (epoch days)", () => {
  test("YYYY-MM-DD only, real calendar dates", () => {
    expect(parseDate("1970-01-01")).toBe(0);
    expect(parseDate("2025-01-05")).toBe(Date.UTC(2025, 0, 5) / 86_400_000);
    expect(formatDate(parseDate("2024-02-29"))).toBe("2024-02-29");
    for (const bad of ["2025-02-29", "2025-04-31", "2025-1-5", "05.01.2025", "2025-01-05T00:00:00Z", ""])
      expect(parseDate(bad)).toBeNaN();
  });
});

describe("formatting", () => {
  test("formatMicro writes the exact decimal", () => {
    expect(formatMicro(4_990_000)).toBe("4.99");
    expect(formatMicro(0)).toBe("0");
    expect(formatMicro(1_234_500_000)).toBe("1234.5");
    expect(formatMicro(1)).toBe("0.000001");
    expect(formatMicro(-2_500_000)).toBe("-2.5");
  });
  test("formatTime pads and handles day changes", () => {
    expect(formatTime(0)).toBe("1970-01-01T00:00:00Z");
    expect(formatTime(86_399)).toBe("1970-01-01T23:59:59Z");
    expect(formatTime(86_400)).toBe("1970-01-02T00:00:00Z");
  });
  test("campaign trimmed and upper-cased; keywords trimmed and lower-cased", () => {
    expect(normaliseCampaign("  summer_Sale ")).toBe("SUMMER_SALE");
    expect(normaliseKeyword(" SUCCESS ")).toBe("success");
  });
});
