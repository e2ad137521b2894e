import { describe, expect, test } from "bun:test";
import { formatLogLine } from "../src/logger";

describe("log lines (hardening finding 6)", () => {
  test.each([
    ["line separator", "\u2028"],
    ["paragraph separator", "\u2029"],
    ["right-to-left override", "\u202e"],
    ["pop directional isolate", "\u2069"],
    ["zero-width space", "\u200b"],
    ["byte order mark", "\ufeff"],
    ["a tag character (outside the BMP)", "\u{e0041}"],
  ])("a %s is escaped, and the line still parses back to the same value", (_, char) => {
    const value = `before${char}after`;
    const line = formatLogLine("info", "request", { userId: value, path: `/x${char}` });
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain(char);
    expect(line.split("\n")).toHaveLength(2);
    expect(line).toMatch(/\\u[0-9a-f]{4}/);
    expect(JSON.parse(line)).toMatchObject({ level: "info", msg: "request", userId: value, path: `/x${char}` });
  });

  test("plain text and control characters are left to JSON.stringify", () => {
    const line = formatLogLine("warn", "m", { a: "é ü 日本 \n \u0007" });
    expect(JSON.parse(line).a).toBe("é ü 日本 \n \u0007");
    expect(line).toContain("é ü 日本");
  });
});
