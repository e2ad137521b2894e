/**
 * `npm run export:purchases -- --from YYYY-MM-DD --to YYYY-MM-DD --out FILE`
 * Writes the AppsFlyer purchases received on POST /af/postback with event_time on from..to (UTC dates,
 * inclusive) as a purchases_raw.csv the pipeline reads. Uses DATABASE_URL like the server; with PGlite on
 * disk (DATABASE_URL unset) stop the server first, PGlite opens its folder in one process at a time.
 * Exit 0 on success (row count on stdout), 2 on a bad flag, 1 on anything else.
 */
import { parseArgs } from "node:util";

export const USAGE = "usage: npm run export:purchases -- --from YYYY-MM-DD --to YYYY-MM-DD --out FILE";

/** A bad flag: exit 2 with this message and the usage line. */
class UsageError extends Error {}

function isRealDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
}

/** Parses argv strictly: unknown flags, missing flags and impossible dates throw UsageError. */
export function parseExportArgs(argv: string[]): { from: string; to: string; out: string } {
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by the parseArgs call it is assigned from
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { from: { type: "string" }, to: { type: "string" }, out: { type: "string" } },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  for (const flag of ["from", "to"] as const) {
    const value = values[flag];
    if (value === undefined) throw new UsageError(`--${flag} is required`);
    if (!isRealDate(value)) throw new UsageError(`--${flag} must be a real date YYYY-MM-DD, got "${value}"`);
  }
  if (!values.out) throw new UsageError("--out is required");
  if (values.from! > values.to!) throw new UsageError(`--from (${values.from}) is after --to (${values.to})`);
  return { from: values.from!, to: values.to!, out: values.out };
}

if (import.meta.main) {
  let options: ReturnType<typeof parseExportArgs>;
  try {
    options = parseExportArgs(process.argv.slice(2).filter((arg) => arg !== "--"));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  // imported only now: the database client opens its connection at import
  const { migrateDatabase, closeDatabase } = await import("../src/db/client");
  const { exportPurchases } = await import("../src/modules/af-postback/export");
  try {
    await migrateDatabase();
    const rows = await exportPurchases(options);
    process.stdout.write(`${rows} purchases from ${options.from} to ${options.to} written to ${options.out}\n`);
    await closeDatabase();
  } catch (error) {
    process.stderr.write(`export failed: ${String((error as Error)?.stack ?? error)}\n`);
    await closeDatabase().catch(() => {});
    process.exit(1);
  }
}
