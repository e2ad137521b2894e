/** The global /stats is open to anyone, so its cost is bounded (hardening finding 3). */
import { describe, expect, test } from "bun:test";
import { cachedGlobalStats } from "../src/modules/stats/service";
import { ClientLimiter, limitKey } from "../src/plugins/client-limits";
import { call } from "./helpers";

describe("global /stats cost", () => {
  test("identical calls within STATS_CACHE_MS share one count (the same promise)", async () => {
    const first = cachedGlobalStats("2025-01-01T00:00:00Z", undefined);
    const second = cachedGlobalStats("2025-01-01T00:00:00Z", undefined);
    expect(second).toBe(first);
    expect((await first).scope).toBe("global");
    expect(cachedGlobalStats("2025-01-01T00:00:00Z", undefined)).toBe(first);
    // another range is another count
    const other = cachedGlobalStats("2025-01-02T00:00:00Z", undefined);
    expect(other).not.toBe(first);
    await other; // leave the queue empty for the next test
  });

  test("counts run one at a time; past 32 waiting, a 503 with Retry-After instead of a longer queue", async () => {
    const started = Array.from({ length: 40 }, (_, i) => {
      try {
        return cachedGlobalStats(`2024-01-01T00:00:${String(i).padStart(2, "0")}Z`, undefined).then(
          () => 200,
          () => 500,
        );
      } catch (error) {
        return Promise.resolve((error as { status: number }).status);
      }
    });
    const statuses = await Promise.all(started);
    expect(statuses.filter((s) => s === 200).length).toBe(32);
    expect(statuses.filter((s) => s === 503).length).toBe(8);
    const response = await call("GET", "/stats?from=2024-01-01T00:01:00Z");
    expect(response.status).toBe(200);
  });

  test("a failed count is not cached: a bad range is a 422 every time", async () => {
    for (let i = 0; i < 2; i++) expect((await call("GET", "/stats?from=0000-01-01T00:00:00Z")).status).toBe(422);
  });
});

describe("per-address limiter", () => {
  test("bursts of 5 s worth, then Retry-After in whole seconds; refills with time", () => {
    const limiter = new ClientLimiter("test", 2);
    const outcomes = Array.from({ length: 11 }, () => limiter.take("a", 0));
    expect(outcomes.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(outcomes[10]).toBe(1);
    expect(limiter.take("b", 0)).toBe(0);
    expect(limiter.take("a", 1000)).toBe(0);
  });

  test("IPv6 clients share a bucket per /64; IPv4-mapped addresses count as IPv4", () => {
    expect(limitKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(limitKey("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(limitKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(limitKey("::1")).toBe("0:0:0:0::/64");
    expect(limitKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(limitKey("10.1.2.3")).toBe("10.1.2.3");
  });
});
