import { describe, expect, test } from "bun:test";
import { TokenCache } from "../src/modules/auth/token-cache";

describe("verified-token cache (hardening finding 1)", () => {
  test("stays inside its byte budget however many distinct tokens arrive, evicting the least recently used", () => {
    const cache = new TokenCache(64 * 1024);
    const exp = Date.now() / 1000 + 600;
    cache.set("token-keep", { sub: "keep", exp });
    for (let i = 0; i < 20_000; i++) {
      cache.set(`token-${i}-${"x".repeat(900)}`, { sub: `user_${i}`, exp });
      if (i % 100 === 0) expect(cache.get("token-keep")?.sub).toBe("keep"); // recently used: survives
    }
    expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(cache.size).toBeGreaterThan(100);
    expect(cache.get("token-0-" + "x".repeat(900))).toBeUndefined(); // least recently used: gone
    expect(cache.get("token-keep")?.sub).toBe("keep");
  });

  test("keys are hashes: the bytes held do not grow with the token's length", () => {
    const short = new TokenCache(1 << 20);
    const long = new TokenCache(1 << 20);
    const exp = Date.now() / 1000 + 600;
    for (let i = 0; i < 100; i++) {
      short.set(`t${i}`, { sub: "u", exp });
      long.set(`t${i}${"y".repeat(1000)}`, { sub: "u", exp });
    }
    expect(long.bytes).toBe(short.bytes);
  });

  test("an expired entry is never answered and is dropped, on read and by sweep", () => {
    const cache = new TokenCache(1 << 20);
    const nowS = Date.now() / 1000;
    cache.set("a", { sub: "a", exp: nowS - 1 });
    cache.set("b", { sub: "b", exp: nowS - 1 });
    cache.set("c", { sub: "c", exp: nowS + 600 });
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.sweep();
    expect(cache.size).toBe(1);
    expect(cache.get("c")?.sub).toBe("c");
  });
});
