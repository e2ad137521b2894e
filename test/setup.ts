// Preloaded by bunfig.toml: tests default to an in-memory PGlite; CI's second pass sets DATABASE_URL to a fresh PostgreSQL database.
process.env.DATABASE_URL ||= "memory://";
process.env.LOG_LEVEL ||= "silent";
const { migrateDatabase } = await import("../src/db/client");
await migrateDatabase();
export {};
