/**
 * Per-client (IP address) request limits for the routes anyone can call without a token: token buckets,
 * `perSecond` with bursts of BURST_SECONDS worth, a 429 `rate_limited` with Retry-After past them.
 * The address is the socket's peer, or the last entry of CLIENT_IP_HEADER when a trusted proxy sets it;
 * an IPv6 client is keyed by its /64, which one subscriber usually holds whole.
 */
import type { Server } from "bun";
import { config } from "../config";
import { OverloadedError } from "../errors";

/** A bucket holds this many seconds of a client's rate, so short bursts pass. */
const BURST_SECONDS = 5;
/** Most clients tracked per limiter; past it full buckets are swept, then the oldest dropped. */
const MAX_CLIENTS = 100_000;

export class ClientLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly burst: number;

  constructor(
    readonly name: string,
    private readonly perSecond: number,
  ) {
    this.burst = Math.max(1, perSecond * BURST_SECONDS);
    if (perSecond > 0) setInterval(() => this.sweep(), 10_000).unref();
  }

  /** 0 when the client may go on, else the whole seconds to wait. */
  take(client: string, now = performance.now()): number {
    if (this.perSecond <= 0) return 0;
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (!this.buckets.has(client)) {
      if (this.buckets.size >= MAX_CLIENTS) this.shrink(now);
      this.buckets.set(client, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  /** Throws the 429 when the client is over its limit; an unknown client (in-process app.handle) is not limited. */
  check(client: string | undefined): void {
    if (client === undefined) return;
    const waitS = this.take(client);
    if (waitS > 0)
      throw new OverloadedError(
        429,
        "rate_limited",
        `too many ${this.name} requests from this address; retry in ${waitS} s`,
        waitS,
      );
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Drops the buckets that have refilled (a full bucket is the same as none). */
  sweep(now = performance.now()): void {
    for (const [client, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(client);
    }
  }

  private shrink(now: number): void {
    this.sweep(now);
    for (const oldest of this.buckets.keys()) {
      if (this.buckets.size < MAX_CLIENTS) break;
      this.buckets.delete(oldest);
    }
  }
}

/** The client's address as limits see it, or undefined when the request did not come over a socket. */
export function clientAddress(request: Request, server: Server<unknown> | null | undefined): string | undefined {
  let address: string | undefined;
  if (config.clientIpHeader)
    address = request.headers.get(config.clientIpHeader)?.split(",").at(-1)?.trim() || undefined;
  address ??= server?.requestIP(request)?.address;
  return address === undefined ? undefined : limitKey(address);
}

/** IPv4 (also IPv4-mapped IPv6) as is; other IPv6 addresses by their first 64 bits. */
export function limitKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(":")) return address;
  const [head, tail = ""] = address.toLowerCase().split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = address.includes("::") && tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** POST /login: each call may create a user row. */
export const loginLimiter = new ClientLimiter("login", config.rateLimitLoginPerIp);
/** GET /track: each call writes an event row. */
export const trackLimiter = new ClientLimiter("track", config.rateLimitTrackPerIp);
/** GET /stats without a token: counts over everyone's events. */
export const anonymousStatsLimiter = new ClientLimiter("anonymous stats", config.rateLimitAnonymousPerIp);
