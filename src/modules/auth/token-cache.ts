/**
 * Verified tokens, so a token that verified once needs only its exp re-checked. Keyed by the
 * SHA-256 of the token (every key is 32 bytes whatever the token's length), bounded in bytes,
 * least recently used evicted first, expired entries never answered and swept.
 */
import { createHash } from "node:crypto";

export interface VerifiedToken {
  sub: string;
  exp: number;
}

// Map entry, key string and object headers, measured roughly in bytes per entry (JSC)
const ENTRY_OVERHEAD_BYTES = 160;
const SWEEP_EVERY_MS = 60_000;

export class TokenCache {
  // Map iteration is insertion order: re-inserting on a hit makes the first entry the least recently used
  private readonly entries = new Map<string, VerifiedToken & { bytes: number }>();
  private heldBytes = 0;

  constructor(private readonly maxBytes: number) {
    setInterval(() => this.sweep(), SWEEP_EVERY_MS).unref();
  }

  get(token: string, nowS = Date.now() / 1000): VerifiedToken | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.exp <= nowS) {
      this.heldBytes -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry;
  }

  set(token: string, verified: VerifiedToken): void {
    const key = keyOf(token);
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.heldBytes -= previous.bytes;
    }
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * (key.length + verified.sub.length);
    this.entries.set(key, { sub: verified.sub, exp: verified.exp, bytes });
    this.heldBytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.heldBytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.heldBytes -= entry.bytes;
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

const keyOf = (token: string) => createHash("sha256").update(token).digest("base64");
