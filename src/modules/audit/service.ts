/**
 * The ledger audit: the service's promise `users.balance == sum(wallet_ledger.amount)` per user,
 * checked all the time and cheaply. The server re-checks every AUDIT_INTERVAL_S only the users
 * whose ledger grew (a ledger-id watermark, read through the primary key), after one full check in
 * the background at start-up; `npm run audit:wallet` runs the full check on demand.
 */
import { type RawQuery, rawQuery } from "../../db/client";
import { log } from "../../logger";
import { auditDuration, auditRuns, auditUsersChecked, balanceDiscrepancies } from "../../metrics";

/** A user whose stored balance is not the sum of their ledger. */
export interface Drift {
  userId: string;
  balance: number;
  ledgerSum: number;
}

/** users per statement: each statement reads one snapshot, so a commit never shows half-done */
const CHUNK = 1000;

interface Row {
  id: string | number;
  user_id: string;
  balance: string | number;
  ledger_sum: string | number;
}

const SUM = "coalesce((select sum(l.amount) from wallet_ledger l where l.user_id = u.user_id), 0)";
const toDrifts = (rows: Row[]): Drift[] =>
  rows
    .filter((r) => Number(r.balance) !== Number(r.ledger_sum))
    .map((r) => ({ userId: r.user_id, balance: Number(r.balance), ledgerSum: Number(r.ledger_sum) }));

/** Compares balance and ledger sum of the given users (each sum read through wallet_ledger_user_id_idx). */
async function checkUsers(userIds: string[], query: RawQuery = rawQuery): Promise<Drift[]> {
  const drifts: Drift[] = [];
  for (let i = 0; i < userIds.length; i += CHUNK) {
    const chunk = userIds.slice(i, i + CHUNK);
    const rows = await query<Row>(
      `select u.id, u.user_id, u.balance, ${SUM} as ledger_sum from users u where u.user_id in (select jsonb_array_elements_text($1::text::jsonb))`,
      [JSON.stringify(chunk)],
    );
    drifts.push(...toDrifts(rows));
  }
  return drifts;
}

/** Every user, in keyset chunks of users.id (short statements, no long snapshot held). */
export async function checkAllUsers(query: RawQuery = rawQuery): Promise<{ checked: number; drifts: Drift[] }> {
  const drifts: Drift[] = [];
  let checked = 0;
  for (let after = 0; ; ) {
    const rows = await query<Row>(
      `select u.id, u.user_id, u.balance, ${SUM} as ledger_sum from users u where u.id > $1 order by u.id limit ${CHUNK}`,
      [after],
    );
    if (rows.length === 0) break;
    checked += rows.length;
    drifts.push(...toDrifts(rows));
    after = Number(rows[rows.length - 1]!.id);
  }
  return { checked, drifts };
}

/** The highest ledger id (an index lookup on the primary key). */
async function ledgerHighWater(query: RawQuery = rawQuery): Promise<number> {
  const rows = await query<{ max: string | number | null }>("select max(id) as max from wallet_ledger", []);
  return Number(rows[0]?.max ?? 0);
}

/** Users with a ledger row above the watermark (a range scan of the primary key). */
async function usersWithLedgerAfter(watermark: number, query: RawQuery = rawQuery): Promise<string[]> {
  const rows = await query<{ user_id: string }>("select distinct user_id from wallet_ledger where id > $1", [
    watermark,
  ]);
  return rows.map((r) => r.user_id);
}

/**
 * The server's continuous audit. The first pass checks everyone; later passes check the users
 * with ledger rows above the high-water mark of the pass before the previous one: a wallet
 * transaction that took its ledger ids before a pass and committed after it (transactions are
 * bounded by REQUEST_TIMEOUT_MS, far below the interval) is still seen by the next pass.
 */
export class LedgerAuditor {
  private scanFrom = 0;
  private seenMax = 0;
  private fullDone = false;
  /** users found in drift and not re-checked clean since: the gauge's value */
  readonly inDrift = new Map<string, Drift>();

  constructor(private readonly query: RawQuery = rawQuery) {}

  /** Reads the current high-water mark, so the first full pass is followed by a scan that covers transactions in flight during it. */
  async prime(): Promise<void> {
    this.seenMax = await ledgerHighWater(this.query);
  }

  /** One pass; returns the users checked and the drifts found in this pass. */
  async runOnce(): Promise<{ checked: number; drifts: Drift[]; full: boolean }> {
    const started = performance.now();
    const high = await ledgerHighWater(this.query);
    const full = !this.fullDone;
    let checkedUsers: string[] | undefined;
    let result: { checked: number; drifts: Drift[] };
    if (full) {
      result = await checkAllUsers(this.query);
      this.inDrift.clear();
      this.fullDone = true;
    } else {
      checkedUsers = await usersWithLedgerAfter(this.scanFrom, this.query);
      result = { checked: checkedUsers.length, drifts: await checkUsers(checkedUsers, this.query) };
      for (const userId of checkedUsers) this.inDrift.delete(userId);
    }
    this.scanFrom = this.seenMax;
    this.seenMax = high;
    for (const drift of result.drifts) {
      this.inDrift.set(drift.userId, drift);
      log("error", "balance discrepancy: users.balance != sum(wallet_ledger.amount)", {
        ...drift,
        difference: drift.balance - drift.ledgerSum,
      });
    }
    balanceDiscrepancies.set(this.inDrift.size);
    auditRuns.inc();
    auditUsersChecked.inc(result.checked);
    auditDuration.observe((performance.now() - started) / 1000);
    return { ...result, full };
  }
}

let timer: ReturnType<typeof setInterval> | undefined;

/** Starts the continuous audit (first pass after one interval); 0 = off. */
export async function startLedgerAudit(
  intervalS: number,
  auditor = new LedgerAuditor(),
): Promise<LedgerAuditor | undefined> {
  if (intervalS <= 0) return undefined;
  await auditor.prime();
  let busy = false;
  timer = setInterval(async () => {
    if (busy) return; // a slow pass is never overlapped by the next
    busy = true;
    try {
      await auditor.runOnce();
    } catch (error) {
      log("warn", "ledger audit failed; retried at the next interval", {
        error: String((error as Error)?.message ?? error),
      });
    } finally {
      busy = false;
    }
  }, intervalS * 1000);
  timer.unref();
  return auditor;
}

export function stopLedgerAudit(): void {
  if (timer) clearInterval(timer);
  timer = undefined;
}
