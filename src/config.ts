/**
 * Environment, validated once at import. A bad value throws a ConfigError naming the variable,
 * and src/index.ts turns that into one log line and exit 1.
 */
import { availableParallelism, hostname } from "node:os";
import { ConfigError } from "./errors";

// in errors.ts so src/index.ts can catch it without importing (and so evaluating) this module
export { ConfigError };

const env = process.env;
const DEFAULT_JWT_SECRET = "test_secret";

function int(name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function str(name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw === "" ? fallback : raw;
}

function oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
  const value = str(name, fallback) as T;
  if (!allowed.includes(value)) throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${value}"`);
  return value;
}

function databaseUrl(): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === "") return undefined;
  if (raw === "memory://" || /^postgres(ql)?:\/\//.test(raw)) return raw;
  throw new ConfigError(
    `DATABASE_URL must be unset, memory:// or postgres://..., got "${raw.replace(/:[^:@/]*@/, ":***@")}"`,
  );
}

function host(): string {
  const value = str("HOST", "0.0.0.0");
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(value))
    throw new ConfigError(`HOST must be an IP address or host name, got "${value}"`);
  return value;
}

const nodeEnv = str("NODE_ENV", "development");
const jwtSecret = str("JWT_SECRET", DEFAULT_JWT_SECRET);
if (nodeEnv === "production" && (jwtSecret === DEFAULT_JWT_SECRET || jwtSecret.length < 32)) {
  throw new ConfigError("JWT_SECRET must be set to at least 32 characters when NODE_ENV=production");
}

/** ALLOWED_ORIGINS: comma-separated browser origins (`scheme://host[:port]`) or `*`; unset = no CORS. */
function allowedOrigins(): string[] {
  const raw = env.ALLOWED_ORIGINS?.trim();
  if (!raw) return [];
  const origins = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const origin of origins) {
    if (origin === "*") continue;
    let canonical: string | undefined;
    try {
      canonical = new URL(origin).origin;
    } catch {}
    // a browser's Origin header is exactly scheme://host[:port], lower case, no path: anything else would never match
    if (canonical !== origin)
      throw new ConfigError(
        `ALLOWED_ORIGINS entries must be * or an origin like https://game.example.com (no path, no trailing slash), got "${origin}"`,
      );
  }
  if (nodeEnv === "production" && origins.includes("*"))
    throw new ConfigError("ALLOWED_ORIGINS must not be * when NODE_ENV=production: list the game's origins");
  return origins;
}

/** AF_PUSH_TOKEN_HEADER: the header AppsFlyer sends the push token in, `Authorization` or a name starting with `X-`. */
function afPushTokenHeader(): string {
  const name = str("AF_PUSH_TOKEN_HEADER", "Authorization");
  if (!/^(authorization|x-[a-z0-9-]+)$/i.test(name))
    throw new ConfigError(
      `AF_PUSH_TOKEN_HEADER must be Authorization or a header name starting with X-, got "${name}"`,
    );
  return name.toLowerCase();
}

const afPushToken = env.AF_PUSH_TOKEN || undefined;
if (nodeEnv === "production" && afPushToken !== undefined && afPushToken.length < 32) {
  throw new ConfigError("AF_PUSH_TOKEN must be at least 32 characters when NODE_ENV=production");
}

const adminToken = env.ADMIN_TOKEN || undefined;
// in production the pipeline routes start a CPU-heavy job: they are never left open by omission
if (nodeEnv === "production" && (adminToken === undefined || adminToken.length < 32)) {
  throw new ConfigError("ADMIN_TOKEN must be set to at least 32 characters when NODE_ENV=production");
}

function optionalPort(name: string): number | undefined {
  const raw = env[name];
  return raw === undefined || raw === "" ? undefined : int(name, 0, 1, 65535);
}

export const config = {
  nodeEnv,
  port: int("PORT", 8000, 0, 65535),
  /** undefined = PGlite on disk under DATA_DIR/pglite; "memory://" = in-memory PGlite; postgres:// = server */
  databaseUrl: databaseUrl(),
  /** postgres.js pool size (the brief's 10 + 20 overflow) */
  dbPoolMax: int("DB_POOL_MAX", 30, 1, 1000),
  jwtSecret,
  jwtTtlMin: int("JWT_TTL_MIN", 120, 1, 60 * 24 * 365),
  dataDir: str("DATA_DIR", "data"),
  reportsDir: str("REPORTS_DIR", "reports"),
  logLevel: oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error", "silent"] as const),
  /** Bearer token for POST /run-pipeline; unset = open route (warned at start-up; refused in production) */
  adminToken,
  /** most requests one actor applies in one transaction; 1 = the naive path */
  earnBatchMax: int("EARN_BATCH_MAX", 1024, 1, 100_000),
  /** most users' drains merged into one transaction (group commit); 1 = one actor per transaction */
  groupCommitMax: int("GROUP_COMMIT_MAX", 1024, 1, 100_000),
  /** most requests in one group commit statement (bounds its duration) */
  groupCommitOpsMax: int("GROUP_COMMIT_OPS_MAX", 4096, 1, 1_000_000),
  /** most group commits in flight; the wallet measures which number between 1 and this commits fastest */
  walletInFlightMax: int("WALLET_INFLIGHT_MAX", 8, 1, 1000),
  /** fewest group commits in flight (where the measurement starts); = WALLET_INFLIGHT_MAX pins the number */
  walletInFlightMin: int("WALLET_INFLIGHT_MIN", 1, 1, 1000),
  /** queued requests per user before /earn answers 429 */
  mailboxMax: int("MAILBOX_MAX", 1_000, 1, 1_000_000),
  /** ms a wallet request may wait for its commit, and a database statement may run, before a 503 */
  requestTimeoutMs: int("REQUEST_TIMEOUT_MS", 10_000, 100, 600_000),
  /** /earn + /spend requests per user per second; 0 = no limit */
  rateLimitPerUser: int("RATE_LIMIT_PER_USER", 0, 0, 1_000_000),
  /** worker threads of the pipeline pool (default: the core count) */
  pipelineWorkers: int("PIPELINE_WORKERS", availableParallelism(), 1, 256),
  /** browser origins answered with CORS headers; empty = no CORS headers at all; "*" = any (not in production) */
  allowedOrigins: allowedOrigins(),
  /** token AppsFlyer's Push API sends with each record; unset = POST /af/postback answers 503 */
  afPushToken,
  /** lower-cased name of the header that carries AF_PUSH_TOKEN */
  afPushTokenHeader: afPushTokenHeader(),
  /** seconds between two ledger audits of the users whose ledger grew; 0 = no continuous audit */
  auditIntervalS: int("AUDIT_INTERVAL_S", 60, 0, 86_400),
  /** serve /metrics on this port only (not on PORT); unset = /metrics on PORT */
  metricsPort: optionalPort("METRICS_PORT"),
  /** ms an anonymous (global) /stats result is reused; 0 = every call counts again (still one at a time) */
  statsCacheMs: int("STATS_CACHE_MS", 2_000, 0, 3_600_000),
  /** listen address; 0.0.0.0 = every IPv4 interface, 127.0.0.1 = this machine only */
  host: host(),
  /** POST /login calls per client address per second (bursts of 5 s worth); 0 = no limit */
  rateLimitLoginPerIp: int("RATE_LIMIT_LOGIN_PER_IP", 20, 0, 1_000_000),
  /** GET /track calls per client address per second (bursts of 5 s worth); 0 = no limit */
  rateLimitTrackPerIp: int("RATE_LIMIT_TRACK_PER_IP", 50, 0, 1_000_000),
  /** GET /stats calls without a token per client address per second (bursts of 5 s worth); 0 = no limit */
  rateLimitAnonymousPerIp: int("RATE_LIMIT_ANON_PER_IP", 10, 0, 1_000_000),
  /** header a trusted reverse proxy sets to the client address (its last entry is used); unset = the socket peer */
  clientIpHeader: env.CLIENT_IP_HEADER ? env.CLIENT_IP_HEADER.toLowerCase() : undefined,
  /** ms from a request's arrival until its body must be read whole, else a 408 and the connection closed */
  bodyTimeoutMs: int("BODY_TIMEOUT_MS", 10_000, 100, 600_000),
  /** requests in flight (a slow body holds one) before new ones get a 503 and their connection closed */
  maxRequestsInFlight: int("MAX_REQUESTS_IN_FLIGHT", 4_096, 1, 1_000_000),
  /** s a connection may sit idle (no request, or a stalled header) before the runtime closes it */
  idleTimeoutS: int("IDLE_TIMEOUT_S", 30, 1, 255),
  version: "1.0.0",
  /** which process answered (GET /health), for an operator behind a load balancer; default hostname:pid */
  instanceId: str("INSTANCE_ID", `${hostname()}:${process.pid}`),
} as const;

export const usingDefaultJwtSecret = jwtSecret === DEFAULT_JWT_SECRET;
export type Config = typeof config;
