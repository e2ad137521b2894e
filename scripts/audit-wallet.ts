/**
 * `npm run audit:wallet`: the full ledger audit against DATABASE_URL. Prints each user whose
 * users.balance differs from sum(wallet_ledger.amount), then one summary line.
 * Exit 0: no drift; 1: drift found; 2: the database could not be read (the reason is printed).
 */
async function main(): Promise<number> {
  let target = "the database";
  try {
    const { config } = await import("../src/config");
    target = config.databaseUrl
      ? config.databaseUrl.replace(/:[^:@/]*@/, ":***@")
      : `PGlite under ${config.dataDir}/pglite`;
    const { checkAllUsers } = await import("../src/modules/audit/service");
    const started = performance.now();
    const { checked, drifts } = await checkAllUsers();
    for (const d of drifts) {
      process.stdout.write(
        `drift user_id=${JSON.stringify(d.userId)} balance=${d.balance} ledger_sum=${d.ledgerSum} difference=${d.balance - d.ledgerSum}\n`,
      );
    }
    const ms = Math.round(performance.now() - started);
    process.stdout.write(`audit: ${checked} users checked, ${drifts.length} in drift (${ms} ms)\n`);
    return drifts.length > 0 ? 1 : 0;
  } catch (error) {
    const reason = (error as Error)?.message ?? String(error);
    process.stderr.write(`audit: cannot read ${target}: ${reason}\n`);
    return 2;
  }
}

export {};

const code = await main();
// the pool and PGlite are not closed one by one: exiting ends them
process.exit(code);
