/**
 * Verified tokens, so a token that verified once needs only its exp re-checked. Keyed by the token's
 * signature (its HMAC-SHA256, 43 characters whatever the token's length: the hash is already there, so a
 * hit costs no hashing), holding the whole token to compare on a hit (a forged token reusing a cached
 * signature misses); bounded in bytes, least recently used evicted first (CLOCK: a hit sets a flag, and
 * eviction moves a flagged entry to the back instead of dropping it), expired entries never answered.
 * Callers pass only tokens of the canonical shape (service.ts canonicalTokenShape).
 */

export interface VerifiedToken {
  sub: string;
  exp: number;
}

interface Entry extends VerifiedToken {
  token: string;
  bytes: number;
  /** hit since it last reached the front of the eviction order (CLOCK's reference bit) */
  used: boolean;
}

// Map entry, key string and object headers, measured roughly in bytes per entry (JSC)
const ENTRY_OVERHEAD_BYTES = 160;
const SWEEP_EVERY_MS = 60_000;
const SIGNATURE_LENGTH = 43;

export class TokenCache {
  // Map iteration is insertion order: re-inserting on a hit makes the first entry the least recently used
  private readonly entries = new Map<string, Entry>();
  private heldBytes = 0;

  constructor(private readonly maxBytes: number) {
    setInterval(() => this.sweep(), SWEEP_EVERY_MS).unref();
  }

  get(token: string, nowS = Date.now() / 1000): VerifiedToken | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry || entry.token !== token) return undefined;
    if (entry.exp <= nowS) {
      this.entries.delete(key);
      this.heldBytes -= entry.bytes;
      return undefined;
    }
    entry.used = true; // a field write, not a Map move: eviction gives used entries a second chance
    return entry;
  }

  set(token: string, verified: VerifiedToken): void {
    const key = keyOf(token);
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.heldBytes -= previous.bytes;
    }
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * (key.length + token.length + verified.sub.length);
    this.entries.set(key, { sub: verified.sub, exp: verified.exp, token, bytes, used: false });
    this.heldBytes += bytes;
    while (this.heldBytes > this.maxBytes && this.entries.size > 0) this.evictOne();
  }

  /** Evicts the oldest entry not hit since it was last here; a hit one moves to the back, unmarked. */
  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (entry.used && entry.exp > Date.now() / 1000) {
        entry.used = false;
        this.entries.set(key, entry);
        continue;
      }
      this.heldBytes -= entry.bytes;
      return;
    }
  }

  /** Drops every expired entry (also run every minute). */
  sweep(nowS = Date.now() / 1000): void {
    for (const [key, entry] of this.entries) {
      if (entry.exp > nowS) continue;
      this.entries.delete(key);
      this.heldBytes -= entry.bytes;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held (what the budget bounds). */
  get bytes(): number {
    return this.heldBytes;
  }
}

/** The signature segment: a keyed SHA-256 of the rest of the token. */
const keyOf = (token: string) => token.slice(-SIGNATURE_LENGTH);
