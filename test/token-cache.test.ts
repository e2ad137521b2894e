import { describe, expect, test } from "bun:test";
import { TokenCache } from "../src/modules/auth/token-cache";

/** A token-shaped string: `<body>.<43-character signature>`, the cache's key. */
const shaped = (body: string, n: number) => `${body}.${String(n).padStart(43, "s")}`;

describe("verified-token cache (hardening finding 1)", () => {
  test("stays inside its byte budget however many distinct tokens arrive, evicting the least recently used", () => {
    const cache = new TokenCache(256 * 1024);
    const exp = Date.now() / 1000 + 600;
    const keep = shaped("keep", -1);
    cache.set(keep, { sub: "keep", exp });
    for (let i = 0; i < 20_000; i++) {
      cache.set(shaped("x".repeat(900), i), { sub: `user_${i}`, exp });
      if (i % 50 === 0) expect(cache.get(keep)?.sub).toBe("keep"); // recently used: survives
    }
    expect(cache.bytes).toBeLessThanOrEqual(256 * 1024);
    expect(cache.size).toBeGreaterThan(50);
    expect(cache.get(shaped("x".repeat(900), 0))).toBeUndefined(); // least recently used: gone
    expect(cache.get(keep)?.sub).toBe("keep");
  });

  test("keyed by the signature, answered only for the exact token: another token with a cached signature misses", () => {
    const cache = new TokenCache(1 << 20);
    const exp = Date.now() / 1000 + 600;
    cache.set(shaped("header.payload", 7), { sub: "victim", exp });
    expect(cache.get(shaped("header.payload", 7))?.sub).toBe("victim");
    expect(cache.get(shaped("header.forged", 7))).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  test("an expired entry is never answered and is dropped, on read and by sweep", () => {
    const cache = new TokenCache(1 << 20);
    const nowS = Date.now() / 1000;
    cache.set(shaped("a", 1), { sub: "a", exp: nowS - 1 });
    cache.set(shaped("b", 2), { sub: "b", exp: nowS - 1 });
    cache.set(shaped("c", 3), { sub: "c", exp: nowS + 600 });
    expect(cache.get(shaped("a", 1))).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.sweep();
    expect(cache.size).toBe(1);
    expect(cache.get(shaped("c", 3))?.sub).toBe("c");
  });
});
