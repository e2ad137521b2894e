/**
 * The one place that chooses the database driver:
 * DATABASE_URL unset -> PGlite on disk under DATA_DIR/pglite, memory:// -> in-memory PGlite,
 * postgres:// -> a PostgreSQL server through a postgres.js pool.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { config } from "../config";
import * as schema from "./schema";

type Driver = "pglite" | "postgres";
/** Typed as the postgres.js flavour: both drivers share drizzle's pg query builder, and a union type breaks its overloads. */
export type Database = PostgresJsDatabase<typeof schema>;
/** A transaction handle of either driver (same query builder API). */
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Plain SQL with $1..$n parameters, for the hot paths where drizzle's query building costs too much CPU. */
export type RawQuery = <T = Record<string, unknown>>(text: string, params: unknown[]) => Promise<T[]>;

const MIGRATIONS_FOLDER = join(import.meta.dir, "..", "..", "drizzle");

function open() {
  const url = config.databaseUrl;
  if (url?.startsWith("postgres")) {
    const client = postgres(url, {
      max: config.dbPoolMax,
      connect_timeout: 30,
      max_lifetime: 60 * 60,
      idle_timeout: 60,
      onnotice: () => {},
      // a stuck statement or a held lock fails inside the request timeout instead of hanging the pool
      connection: { statement_timeout: config.requestTimeoutMs, idle_in_transaction_session_timeout: 60_000 },
    });
    const db = drizzlePostgres(client, { schema });
    // prepare: true makes each statement text a named prepared statement, parsed once per connection
    const bind =
      (run: Pick<postgres.Sql, "unsafe">): RawQuery =>
      (text, params) =>
        run.unsafe(text, params as never[], { prepare: true }) as never;
    return {
      driver: "postgres" as Driver,
      db: db as Database,
      query: bind(client),
      transaction: <T>(fn: (query: RawQuery) => Promise<T>) => client.begin((tx) => fn(bind(tx))) as Promise<T>,
      migrate: async () => {
        // several instances starting together on a fresh database: one migrates, the others wait, then find nothing to do
        // the lock lives on a connection of its own, outside the pool (DB_POOL_MAX=1 must still migrate)
        const lock = postgres(url, { max: 1, connect_timeout: 30, onnotice: () => {} });
        try {
          await lock`select pg_advisory_lock(hashtext('game-backend:migrations'))`;
          await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
        } finally {
          await lock.end({ timeout: 5 }); // ending the session releases the lock
        }
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  let dataDir: string | undefined;
  if (url !== "memory://") {
    dataDir = join(config.dataDir, "pglite");
    mkdirSync(dataDir, { recursive: true });
  }
  const client = new PGlite(dataDir);
  const db = drizzlePglite(client, { schema });
  const bind =
    (run: Pick<PGlite, "query">): RawQuery =>
    async (text, params) =>
      (await run.query(text, params)).rows as never;
  return {
    driver: "pglite" as Driver,
    db: db as unknown as Database,
    query: bind(client),
    transaction: <T>(fn: (query: RawQuery) => Promise<T>) => client.transaction((tx) => fn(bind(tx))),
    migrate: () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: () => client.close(),
  };
}

const handle = open();

export const db = handle.db;
export const driver = handle.driver;
/** Runs one raw statement outside a transaction. */
export const rawQuery: RawQuery = handle.query;
/** Runs fn in one transaction with a raw query function; commits when fn resolves, rolls back when it throws. */
export const rawTransaction = handle.transaction;
export const migrateDatabase = handle.migrate;
export const closeDatabase = handle.close;

/** Rows of a raw statement, whichever driver ran it. */
export async function execute<T>(runner: Database | Tx, query: SQL): Promise<T[]> {
  const result = (await runner.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

const PING_REUSE_MS = 250;
let lastPing: { at: number; result: Promise<number> } | undefined;

/**
 * Round-trip time of `select 1`, or an error when the database does not answer within timeoutMs.
 * Concurrent callers share one ping, and a result younger than 250 ms is reused: a load balancer
 * polling /health thousands of times a second costs the database a few queries.
 */
export function pingDatabase(timeoutMs = 2000): Promise<number> {
  const now = performance.now();
  if (lastPing && now - lastPing.at < PING_REUSE_MS) return lastPing.result;
  const result = ping(timeoutMs);
  lastPing = { at: now, result };
  return result;
}

async function ping(timeoutMs: number): Promise<number> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([db.execute(sql`select 1`), timeout]);
  } finally {
    clearTimeout(timer);
  }
  return Math.round((performance.now() - started) * 100) / 100;
}
