/**
 * Environment, validated once at import. A bad value throws a ConfigError naming the variable,
 * and src/index.ts turns that into one log line and exit 1.
 */
import { availableParallelism } from "node:os";

export class ConfigError extends Error {}

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
  throw new ConfigError(`DATABASE_URL must be unset, memory:// or postgres://..., got "${raw.replace(/:[^:@/]*@/, ":***@")}"`);
}

function host(): string {
  const value = str("HOST", "0.0.0.0");
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(value)) throw new ConfigError(`HOST must be an IP address or host name, got "${value}"`);
  return value;
}

const nodeEnv = str("NODE_ENV", "development");
const jwtSecret = str("JWT_SECRET", DEFAULT_JWT_SECRET);
if (nodeEnv === "production" && (jwtSecret === DEFAULT_JWT_SECRET || jwtSecret.length < 32)) {
  throw new ConfigError("JWT_SECRET must be set to at least 32 characters when NODE_ENV=production");
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
  /** Bearer token for POST /run-pipeline; unset = open route (warned at start-up) */
  adminToken: env.ADMIN_TOKEN || undefined,
  /** most requests one actor applies in one transaction; 1 = the naive path */
  earnBatchMax: int("EARN_BATCH_MAX", 1024, 1, 100_000),
  /** most users' drains merged into one transaction (group commit); 1 = one actor per transaction */
  groupCommitMax: int("GROUP_COMMIT_MAX", 64, 1, 10_000),
  /** queued requests per user before /earn answers 429 */
  mailboxMax: int("MAILBOX_MAX", 1_000, 1, 1_000_000),
  /** ms a wallet request may wait for its commit, and a database statement may run, before a 503 */
  requestTimeoutMs: int("REQUEST_TIMEOUT_MS", 10_000, 100, 600_000),
  /** /earn + /spend requests per user per second; 0 = no limit */
  rateLimitPerUser: int("RATE_LIMIT_PER_USER", 0, 0, 1_000_000),
  /** worker threads of the pipeline pool (default: the core count) */
  pipelineWorkers: int("PIPELINE_WORKERS", availableParallelism(), 1, 256),
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
} as const;

export const usingDefaultJwtSecret = jwtSecret === DEFAULT_JWT_SECRET;
export type Config = typeof config;
