/**
 * The process-wide wallet: the engine of engine.ts tuned from config, and its gauges in /metrics.
 * The rules a request is judged by are in ledger.ts (and, as SQL, in drizzle/0003_wallet_apply.sql).
 */
import { config } from "../../config";
import { driver } from "../../db/client";
import { registerWalletGauges } from "../../metrics";
import { WalletEngine } from "./engine";

const poolMax = driver === "pglite" ? 1 : config.dbPoolMax;
/** group commits in flight: measured between 1 and this; PGlite has one connection, so one at a time */
const inFlightMax = driver === "pglite" ? 1 : Math.max(1, Math.min(config.walletInFlightMax, poolMax - 1));

/** The process-wide engine, tuned from config. */
export const wallet = new WalletEngine({
  batchMax: config.earnBatchMax,
  groupMax: config.earnBatchMax === 1 ? 1 : config.groupCommitMax,
  groupOpsMax: config.groupCommitOpsMax,
  // the naive baseline keeps as many one-request transactions in flight as before the measured limit
  concurrency:
    config.earnBatchMax === 1
      ? Math.min(16, poolMax)
      : { min: Math.min(config.walletInFlightMin, inFlightMax), max: inFlightMax },
  waitersMax: Math.max(1, Math.min(4, poolMax - inFlightMax)),
  mailboxMax: config.mailboxMax,
  timeoutMs: config.requestTimeoutMs,
  ratePerUser: config.rateLimitPerUser,
});
registerWalletGauges(
  () => ({ ...wallet.depth(), inFlightLimit: wallet.inFlightLimit }),
  poolMax,
  config.groupCommitMax,
);
