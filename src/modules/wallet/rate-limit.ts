/** Per-key token buckets: `perSecond` requests a second with bursts up to `burst`; idle buckets are swept. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst = perSecond,
  ) {
    // a full bucket is the same as no bucket: drop those every 10 s so memory follows active users
    if (perSecond > 0) setInterval(() => this.sweep(), 10_000).unref();
  }

  /** 0 when the request may go, else the whole seconds to wait (for Retry-After). */
  take(key: string, now = performance.now()): number {
    if (this.perSecond <= 0) return 0;
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  /** Buckets held (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  sweep(now = performance.now()): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
  }
}
