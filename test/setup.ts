// Preloaded by bunfig.toml: tests default to an in-memory PGlite; CI's second pass sets DATABASE_URL to a fresh PostgreSQL database.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

process.env.DATABASE_URL ||= "memory://";
process.env.LOG_LEVEL ||= "silent";
// POST /run-pipeline writes here, never into the repository's reports/
process.env.REPORTS_DIR ||= join(mkdtempSync(join(tmpdir(), "reports-")), "reports");
process.env.PIPELINE_WORKERS ||= "2";
// POST /af/postback is enabled in tests (the disabled 503 is tested on a server started without it)
process.env.AF_PUSH_TOKEN ||= "test-af-push-token-0123456789abcdef";
const { migrateDatabase } = await import("../src/db/client");
await migrateDatabase();
