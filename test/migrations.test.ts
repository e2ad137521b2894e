/** Migrations on PostgreSQL: under an advisory lock, so replicas starting together never collide, whatever the pool size. */
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createTempDatabase, postgresAvailable, type ServerProcess, startServer } from "./helpers";

const available = await postgresAvailable();
const servers: ServerProcess[] = [];
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const server of servers) {
    server.process.kill("SIGTERM");
    await server.process.exited;
  }
  for (const drop of drops) await drop();
});

describe.skipIf(!available)("migrateDatabase on PostgreSQL", () => {
  test("two servers with DB_POOL_MAX=1 start together on a fresh database: each migrates (one applies) and answers", async () => {
    const database = await createTempDatabase("migr");
    drops.push(database.drop);
    // DB_POOL_MAX=1: the migration lock must not take the pool's only connection
    const started = await Promise.all(
      [1, 2].map(() => startServer({ DATABASE_URL: database.url, DB_POOL_MAX: "1" }, 60_000)),
    );
    servers.push(...started);
    for (const server of started) expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      const journal = await Bun.file("drizzle/meta/_journal.json").json();
      expect(row.n).toBe(journal.entries.length); // each migration applied once
    } finally {
      await sql.end();
    }
  });
});
