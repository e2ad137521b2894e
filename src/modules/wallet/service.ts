/**
 * The earn path. Each user has an in-process mailbox actor; an actor hands its drained mailbox
 * (up to EARN_BATCH_MAX requests) to the group committer, which merges the drains of many actors
 * into one transaction and one commit. The row lock taken in that transaction, not the actor,
 * is what keeps two server processes correct.
 */
import { config } from "../../config";
import { AppError, ConflictError, OverloadedError, UnauthorizedError } from "../../errors";
import { log } from "../../logger";
import { RateLimiter } from "./rate-limit";
import { applyBatches, BUSY, type OpOutcome, type UserBatch, type WalletOp } from "./repository";
import { driver } from "../../db/client";
import { commitGroupSize, earnBatchSize, registerWalletGauges, walletCommitFailures, walletCommits } from "../metrics/service";

export type WalletResult = { txId: number; amount: number; balance: number; replayed: boolean };

interface QueuedOp extends WalletOp {
  resolve: (result: WalletResult) => void;
  reject: (error: Error) => void;
}

interface Actor {
  userId: string;
  mailbox: QueuedOp[];
  draining: boolean;
}

interface Drain {
  batch: UserBatch;
  ops: QueuedOp[];
  done: () => void;
}

const RETRYABLE = new Set(["40001", "40P01"]); // serialization failure, deadlock
const MAX_ATTEMPTS = 3;
/** error code of a transaction that has not settled long after the request timeout */
const COMMIT_STALLED = "COMMIT_STALLED";

/** Tunables of the wallet engine; the defaults come from config. */
export interface WalletEngineOptions {
  /** most requests of one user applied per drain */
  batchMax: number;
  /** most users' drains merged into one transaction */
  groupMax: number;
  /** transactions in flight at once */
  concurrency: number;
  /** queued requests per user before a 429 */
  mailboxMax: number;
  /** ms a request waits for its commit before a 503 (0 = no limit) */
  timeoutMs: number;
  /** requests per user per second before a 429 (0 = no limit) */
  ratePerUser?: number;
  /** the transaction that applies a group of drains; tests wrap it to inject driver faults */
  apply?: typeof applyBatches;
}

export class WalletEngine {
  private readonly actors = new Map<string, Actor>();
  private readonly ready: Drain[] = [];
  /** drains whose user row was locked elsewhere: each gets a transaction of its own that waits for the lock */
  private readonly contended: Drain[] = [];
  private inFlight = 0;
  private stopping = false;
  private settling = false;
  private idleWaiters: (() => void)[] = [];
  /** counters for tests and benchmarks (Prometheus has its own) */
  readonly stats = { commits: 0, batches: 0, opsApplied: 0, retries: 0 };

  private readonly limiter: RateLimiter;

  constructor(private readonly options: WalletEngineOptions) {
    this.limiter = new RateLimiter(options.ratePerUser ?? 0);
  }

  /** Queues one request on the user's actor; resolves after its commit. */
  submit(userId: string, op: WalletOp): Promise<WalletResult> {
    if (this.stopping) return Promise.reject(new OverloadedError(503, "shutting_down", "server is shutting down", 5));
    const waitS = this.limiter.take(userId);
    if (waitS > 0) return Promise.reject(new OverloadedError(429, "rate_limited", "too many wallet requests for this user", waitS));
    let actor = this.actors.get(userId);
    if (!actor) {
      actor = { userId, mailbox: [], draining: false };
      this.actors.set(userId, actor);
    }
    if (actor.mailbox.length >= this.options.mailboxMax) {
      return Promise.reject(new OverloadedError(429, "mailbox_full", "too many requests queued for this user", 1));
    }
    const mailbox = actor.mailbox;
    const done = new Promise<WalletResult>((resolve, reject) => {
      const queued: QueuedOp = { ...op, resolve, reject };
      if (this.options.timeoutMs > 0) {
        const timer = setTimeout(() => {
          // still queued: take it out, so a request answered 503 is never applied later
          const index = mailbox.indexOf(queued);
          if (index >= 0) mailbox.splice(index, 1);
          reject(new OverloadedError(503, "timeout", "the wallet did not answer in time; retry with the same Idempotency-Key", 1));
        }, this.options.timeoutMs);
        queued.resolve = (result) => (clearTimeout(timer), resolve(result));
        queued.reject = (error) => (clearTimeout(timer), reject(error));
      }
      mailbox.push(queued);
    });
    if (!actor.draining) this.drain(actor);
    return done;
  }

  /** Live actors and queued requests, for /metrics. */
  depth() {
    let queued = 0;
    for (const actor of this.actors.values()) queued += actor.mailbox.length;
    return { actors: this.actors.size, queued, inFlight: this.inFlight };
  }

  /** Stops accepting and resolves once every mailbox has been committed. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.actors.size === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private drain(actor: Actor): void {
    actor.draining = true;
    const ops = actor.mailbox.splice(0, this.options.batchMax);
    const batch: UserBatch = { userId: actor.userId, ops: ops.map(({ amount, reason, idempotencyKey }) => ({ amount, reason, idempotencyKey })) };
    this.ready.push({
      batch,
      ops,
      done: () => {
        if (actor.mailbox.length > 0) return this.drain(actor);
        // an idle actor holds nothing worth keeping: evict it at once, so memory follows the queued work only
        actor.draining = false;
        this.actors.delete(actor.userId);
      },
    });
    this.pump();
  }

  private pump(): void {
    if (this.settling) return;
    while (this.inFlight < this.options.concurrency && (this.contended.length > 0 || this.ready.length > 0)) {
      const solo = this.contended.length > 0;
      const group = solo ? this.contended.splice(0, 1) : this.ready.splice(0, this.options.groupMax);
      this.inFlight++;
      this.commitGroup(group, solo).then((busy) => {
        this.inFlight--;
        // re-queue every follow-up drain first, then pump once, so they share the next transaction
        this.settling = true;
        for (const drain of group) {
          if (busy.has(drain)) this.contended.push(drain);
          else drain.done();
        }
        this.settling = false;
        this.pump();
        if (this.inFlight === 0 && this.actors.size === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
      });
    }
  }

  /**
   * A transaction that never settles (a driver losing a query on a dropped connection) must not
   * hold its requests and its slot forever: after the request timeout plus a grace second it counts
   * as failed, outcome unknown, which is the 503 "retry with the same Idempotency-Key" contract.
   */
  private withWatchdog<T>(transaction: Promise<T>): Promise<T> {
    if (this.options.timeoutMs <= 0) return transaction;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error("the transaction did not settle in time"), { code: COMMIT_STALLED })), this.options.timeoutMs + 1000);
    });
    transaction.catch(() => {}); // a late failure after the watchdog fired is already answered
    return Promise.race([transaction, stalled]).finally(() => clearTimeout(timer));
  }

  /** Commits one group; returns the drains that came back BUSY (settles all the others). Never throws. */
  private async commitGroup(group: Drain[], wait: boolean): Promise<Set<Drain>> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcomes = await this.withWatchdog((this.options.apply ?? applyBatches)(group.map((d) => d.batch), wait));
        const busy = new Set<Drain>();
        this.stats.commits++;
        walletCommits.inc();
        commitGroupSize.observe(group.length);
        group.forEach((drain, i) => {
          const result = outcomes[i];
          if (result === BUSY) return void busy.add(drain);
          this.stats.batches++;
          earnBatchSize.observe(drain.ops.length);
          drain.ops.forEach((op, j) => settle(op, result[j], this.stats));
        });
        return busy;
      } catch (error) {
        const code = (error as { code?: string; cause?: { code?: string } }).code ?? (error as { cause?: { code?: string } }).cause?.code;
        if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
          this.stats.retries++;
          continue;
        }
        walletCommitFailures.inc();
        log("error", "wallet commit failed", { error: (error as Error).message, code, users: group.length });
        // not committed (or unknown): a 503 the client may retry with its Idempotency-Key, never a 200
        const failure = new OverloadedError(503, "database_unavailable", "the wallet could not commit, retry with the same Idempotency-Key", 1);
        for (const drain of group) for (const op of drain.ops) op.reject(failure);
        return new Set();
      }
    }
  }
}

function settle(op: QueuedOp, outcome: OpOutcome, stats: WalletEngine["stats"]): void {
  switch (outcome.kind) {
    case "applied":
      stats.opsApplied++;
      return op.resolve({ txId: outcome.txId, amount: outcome.amount, balance: outcome.balance, replayed: false });
    case "replayed":
      return op.resolve({ txId: outcome.txId, amount: outcome.amount, balance: outcome.balance, replayed: true });
    case "insufficient_funds":
      return op.reject(new ConflictError("insufficient_funds", "balance too low for this spend", { balance: outcome.balance, amount: outcome.amount }));
    case "idempotency_mismatch":
      return op.reject(new AppError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request body", { field: "Idempotency-Key" }));
    case "unknown_user":
      return op.reject(new UnauthorizedError("user of this token does not exist; log in again"));
  }
}

const concurrency = driver === "pglite" ? 1 : Math.max(1, Math.min(config.dbPoolMax, 16));

/** The process-wide engine, tuned from config; PGlite has one connection, so one transaction at a time. */
export const wallet = new WalletEngine({
  batchMax: config.earnBatchMax,
  groupMax: config.earnBatchMax === 1 ? 1 : config.groupCommitMax,
  concurrency,
  mailboxMax: config.mailboxMax,
  timeoutMs: config.requestTimeoutMs,
  ratePerUser: config.rateLimitPerUser,
});
registerWalletGauges(() => wallet.depth(), driver === "pglite" ? 1 : config.dbPoolMax);
