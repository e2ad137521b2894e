/**
 * The earn path. Each user has an in-process mailbox actor; an actor hands its drained mailbox
 * (up to EARN_BATCH_MAX requests) to the group committer, which merges the drains of many actors
 * into one statement, one transaction and one commit (drizzle/0003_wallet_apply.sql). The row lock
 * taken there, not the actor, is what keeps several server processes correct.
 *
 * The promise to a client: a request is answered 200 and applied; or answered with an error and
 * never applied; or, only when its statement was already sent, answered 503 `outcome_unknown`
 * ("retry with the same Idempotency-Key"). A request that times out before its statement is sent is
 * cancelled wherever it waits (mailbox, drain, group) and never reaches the database.
 */
import { ConflictError, IdempotencyKeyReusedError, OverloadedError, UnauthorizedError } from "../../errors";
import { log } from "../../logger";
import { commitDuration, commitGroupSize, earnBatchSize, walletCommitFailures, walletCommits } from "../../metrics";
import { InFlightLimit } from "./in-flight-limit";
import { RateLimiter } from "./rate-limit";
import { applyBatches, BUSY, type OpOutcome, type UserBatch, type WalletOp } from "./repository";

export type WalletResult = { txId: number; amount: number; balance: number; replayed: boolean };

/** Where a request is: waiting (mailbox or a group not yet sent), in a statement sent, or answered. */
const State = { Waiting: 0, Sent: 1, Answered: 2 } as const;
type State = (typeof State)[keyof typeof State];

interface QueuedOp extends WalletOp {
  state: State;
  actor: Actor;
  deadline: number;
  resolve: (result: WalletResult) => void;
  reject: (error: Error) => void;
}

interface Actor {
  userId: string;
  mailbox: QueuedOp[];
  draining: boolean;
}

interface Drain {
  actor: Actor;
  ops: QueuedOp[];
}

const RETRYABLE = new Set(["40001", "40P01"]); // serialization failure, deadlock
const MAX_ATTEMPTS = 3;
/** error code of a statement that has not settled long after the request timeout */
const COMMIT_STALLED = "COMMIT_STALLED";

const timeoutError = () =>
  new OverloadedError(503, "timeout", "the wallet did not answer in time; nothing was applied, retry", 1);
const unknownError = () =>
  new OverloadedError(
    503,
    "outcome_unknown",
    "the wallet did not confirm in time; the request may or may not be applied: retry with the same Idempotency-Key",
    1,
  );
const failedError = () =>
  new OverloadedError(503, "database_unavailable", "the wallet could not commit; nothing was applied, retry", 1);

/** Tunables of the wallet engine; the defaults come from config. */
export interface WalletEngineOptions {
  /** most requests of one user applied per drain */
  batchMax: number;
  /** most users' drains merged into one statement */
  groupMax: number;
  /** most requests in one statement (bounds a statement's time) */
  groupOpsMax?: number;
  /** group commits in flight: a number = fixed; an object = the bounds of the measured limit (in-flight-limit.ts) */
  concurrency: number | { min: number; max: number };
  /** statements waiting for a row held elsewhere, beside the group commits */
  waitersMax?: number;
  /** queued requests per user before a 429 */
  mailboxMax: number;
  /** ms a request waits for its commit before a 503 (0 = no limit) */
  timeoutMs: number;
  /** requests per user per second before a 429 (0 = no limit) */
  ratePerUser?: number;
  /** the statement that applies a group of drains; tests wrap it to inject driver faults */
  apply?: typeof applyBatches;
}

export class WalletEngine {
  private readonly actors = new Map<string, Actor>();
  private readonly ready: Drain[] = [];
  /** drains whose user row was locked elsewhere: each gets a statement of its own that waits for the lock */
  private readonly contended: Drain[] = [];
  /** every request not yet past its deadline, in arrival (= deadline) order; answered ones are skipped */
  private readonly deadlines: QueuedOp[] = [];
  private deadlinesHead = 0;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private inFlight = 0;
  private waiting = 0;
  private stopping = false;
  private pumpScheduled = false;
  /** moving average of a group statement's round trip, ms */
  private commitMs = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly limit: InFlightLimit | undefined;
  private readonly fixedLimit: number;
  private readonly limiter: RateLimiter;
  /** counters for tests and benchmarks (Prometheus has its own) */
  readonly stats = { commits: 0, batches: 0, opsApplied: 0, retries: 0, cancelled: 0 };

  constructor(private readonly options: WalletEngineOptions) {
    this.limiter = new RateLimiter(options.ratePerUser ?? 0);
    const c = options.concurrency;
    this.limit = typeof c === "number" ? undefined : new InFlightLimit(c);
    this.fixedLimit = typeof c === "number" ? c : c.max;
  }

  /** Group commits allowed in flight now. */
  get inFlightLimit(): number {
    return this.limit?.current ?? this.fixedLimit;
  }

  /** Queues one request on the user's actor; resolves after its commit. */
  submit(userId: string, op: WalletOp): Promise<WalletResult> {
    if (this.stopping) return Promise.reject(new OverloadedError(503, "shutting_down", "server is shutting down", 5));
    const waitS = this.limiter.take(userId);
    if (waitS > 0)
      return Promise.reject(new OverloadedError(429, "rate_limited", "too many wallet requests for this user", waitS));
    let actor = this.actors.get(userId);
    if (!actor) {
      actor = { userId, mailbox: [], draining: false };
      this.actors.set(userId, actor);
    }
    if (actor.mailbox.length >= this.options.mailboxMax) {
      return Promise.reject(new OverloadedError(429, "mailbox_full", "too many requests queued for this user", 1));
    }
    const done = new Promise<WalletResult>((resolve, reject) => {
      const queued: QueuedOp = { ...op, state: State.Waiting, actor: actor!, deadline: 0, resolve, reject };
      if (this.options.timeoutMs > 0) {
        queued.deadline = performance.now() + this.options.timeoutMs;
        this.deadlines.push(queued);
        this.sweeper ??= setInterval(() => this.expire(), Math.min(50, this.options.timeoutMs / 4));
      }
      actor.mailbox.push(queued);
    });
    if (!actor.draining) {
      this.drain(actor);
      this.schedulePump();
    }
    return done;
  }

  /** Live actors, queued requests and statements in flight, for /metrics. */
  depth() {
    let queued = 0;
    for (const actor of this.actors.values()) queued += actor.mailbox.length;
    return { actors: this.actors.size, queued, inFlight: this.inFlight + this.waiting };
  }

  /** Stops accepting and resolves once every mailbox has been committed. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.actors.size === 0 && this.inFlight + this.waiting === 0) return this.stopSweeper();
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Answers every request past its deadline: cancelled if it was still waiting, outcome unknown if sent. */
  private expire(now = performance.now()): void {
    const list = this.deadlines;
    let head = this.deadlinesHead;
    while (head < list.length && (list[head].state === State.Answered || list[head].deadline <= now)) {
      const op = list[head++];
      if (op.state === State.Waiting) {
        this.stats.cancelled++;
        const index = op.actor.mailbox.indexOf(op);
        if (index >= 0) op.actor.mailbox.splice(index, 1); // else it is in a drain, dropped when the group is sent
        answer(op).reject(timeoutError());
      } else if (op.state === State.Sent) answer(op).reject(unknownError());
    }
    if (head > 1024 && head * 2 > list.length) {
      list.splice(0, head);
      head = 0;
    }
    this.deadlinesHead = head;
    if (head === list.length) this.stopSweeper();
  }

  private stopSweeper(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.deadlines.length = this.deadlinesHead = 0;
  }

  /** Moves up to batchMax waiting requests from the mailbox into a drain; an idle actor is evicted. */
  private drain(actor: Actor): void {
    const mailbox = actor.mailbox;
    let taken = 0;
    let keys: Set<string> | undefined;
    const ops: QueuedOp[] = [];
    while (taken < mailbox.length && ops.length < this.options.batchMax) {
      const op = mailbox[taken];
      if (op.idempotencyKey !== null) {
        // a key seen earlier in this drain waits for the next one, which then finds it committed (a replay)
        if (keys?.has(op.idempotencyKey)) break;
        keys ??= new Set();
        keys.add(op.idempotencyKey);
      }
      taken++;
      if (op.state === State.Waiting) ops.push(op);
    }
    mailbox.splice(0, taken);
    if (ops.length === 0) {
      // an idle actor holds nothing worth keeping: evict it at once, so memory follows the queued work only
      actor.draining = false;
      if (mailbox.length === 0) this.actors.delete(actor.userId);
      return;
    }
    actor.draining = true;
    this.ready.push({ actor, ops });
  }

  /**
   * Pumps once after the current batch of I/O callbacks: every request read in the same tick joins
   * the same group (with PGlite, whose queries block the event loop, this is what makes groups at all).
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Sends groups while slots are free: contended drains on their own (waiting for the lock), the rest merged. */
  private pump(): void {
    while (this.contended.length > 0 && this.waiting < (this.options.waitersMax ?? 1)) {
      const solo = this.send([this.contended.shift()!]);
      if (solo.length === 0) continue;
      this.waiting++;
      this.commitGroup(solo, true).then((busy) => this.settled(solo, busy, true));
    }
    while (this.ready.length > 0 && this.inFlight < this.inFlightLimit) {
      const group = this.send(this.takeGroup());
      if (group.length === 0) continue;
      this.inFlight++;
      const ops = group.reduce((n, d) => n + d.ops.length, 0);
      this.commitGroup(group, false).then((busy) => {
        this.limit?.record(ops, this.ready.length > 0);
        this.settled(group, busy, false);
      });
    }
    if (this.inFlight + this.waiting === 0 && this.actors.size === 0 && this.idleWaiters.length > 0) {
      this.stopSweeper();
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private takeGroup(): Drain[] {
    const opsMax = this.options.groupOpsMax ?? Infinity;
    let count = 0;
    let ops = 0;
    while (
      count < this.ready.length &&
      count < this.options.groupMax &&
      (count === 0 || ops + this.ready[count].ops.length <= opsMax)
    ) {
      ops += this.ready[count++].ops.length;
    }
    return this.ready.splice(0, count);
  }

  /**
   * Drops answered requests from the drains and marks the rest sent; returns the drains left to send
   * (an emptied drain hands its actor back at once, so it never reaches the statement or settled()).
   * A request whose deadline comes before a statement's usual duration is refused now (a definite 503
   * timeout) rather than sent to end as outcome_unknown.
   */
  private send(group: Drain[]): Drain[] {
    const cutoff = this.options.timeoutMs > 0 ? performance.now() + this.commitMs : 0;
    return group.filter((drain) => {
      drain.ops = drain.ops.filter((op) => {
        if (op.state === State.Waiting && op.deadline < cutoff) {
          this.stats.cancelled++;
          answer(op).reject(timeoutError());
        }
        return op.state !== State.Answered;
      });
      for (const op of drain.ops) op.state = State.Sent;
      if (drain.ops.length === 0) this.next(drain.actor);
      return drain.ops.length > 0;
    });
  }

  /** After a statement: busy drains wait for the lock on their own, the others' actors drain again, then one pump. */
  private settled(group: Drain[], busy: Set<Drain>, waited: boolean): void {
    if (waited) this.waiting--;
    else this.inFlight--;
    for (const drain of group) {
      if (busy.has(drain)) {
        // nothing of a busy user was applied: its requests are waiting again (cancellable)
        for (const op of drain.ops) if (op.state === State.Sent) op.state = State.Waiting;
        this.contended.push(drain);
      } else this.next(drain.actor);
    }
    this.pump();
  }

  private next(actor: Actor): void {
    actor.draining = false;
    this.drain(actor);
  }

  /**
   * A statement that never settles (a driver losing a query on a dropped connection) must not hold
   * its requests and its slot forever: after the request timeout plus a grace second it counts as
   * failed with an unknown outcome.
   */
  private withWatchdog<T>(statement: Promise<T>): Promise<T> {
    if (this.options.timeoutMs <= 0) return statement;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      const stall = () =>
        reject(Object.assign(new Error("the statement did not settle in time"), { code: COMMIT_STALLED }));
      timer = setTimeout(stall, this.options.timeoutMs + 1000);
    });
    statement.catch(() => {}); // a late failure after the watchdog fired is already answered
    return Promise.race([statement, stalled]).finally(() => clearTimeout(timer));
  }

  /** Commits one group; returns the drains that came back BUSY (answers all the others). Never throws. */
  private async commitGroup(group: Drain[], wait: boolean): Promise<Set<Drain>> {
    const busy = new Set<Drain>();
    for (let attempt = 1; ; attempt++) {
      const live = group.filter((drain) => drain.ops.some((op) => op.state === State.Sent));
      if (live.length === 0) return busy;
      const batches: UserBatch[] = live.map((drain) => {
        drain.ops = drain.ops.filter((op) => op.state === State.Sent);
        return { userId: drain.actor.userId, ops: drain.ops };
      });
      const started = performance.now();
      try {
        const outcomes = await this.withWatchdog((this.options.apply ?? applyBatches)(batches, wait));
        const ms = performance.now() - started;
        commitDuration.observe(ms / 1000);
        if (!wait) this.commitMs += (ms - this.commitMs) / 8;
        this.stats.commits++;
        walletCommits.inc();
        commitGroupSize.observe(live.length);
        live.forEach((drain, i) => {
          const result = outcomes[i];
          if (result === BUSY) {
            busy.add(drain);
            return;
          }
          this.stats.batches++;
          earnBatchSize.observe(drain.ops.length);
          for (let j = 0; j < drain.ops.length; j++) settle(drain.ops[j], result[j], this.stats);
        });
        return busy;
      } catch (error) {
        const code = errorCode(error);
        // a database error (SQLSTATE) means the statement, its own transaction, rolled back: nothing applied
        const rolledBack = isDatabaseError(error);
        if (rolledBack && code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
          this.stats.retries++;
          continue;
        }
        walletCommitFailures.inc();
        log("error", "wallet commit failed", { error: (error as Error).message, code, users: live.length, rolledBack });
        for (const drain of live)
          for (const op of drain.ops)
            if (op.state === State.Sent) answer(op).reject(rolledBack ? failedError() : unknownError());
        return busy;
      }
    }
  }
}

/** Marks a request answered (so nothing answers it twice) and returns it. */
function answer(op: QueuedOp): QueuedOp {
  op.state = State.Answered;
  return op;
}

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code;
}

/** An error the database answered (it has a severity), as opposed to a lost connection or a stalled statement. */
function isDatabaseError(error: unknown): boolean {
  const e = error as { severity?: string; code?: string; cause?: { severity?: string } };
  return Boolean((e.severity ?? e.cause?.severity) && /^[0-9A-Z]{5}$/.test(errorCode(error) ?? ""));
}

function settle(op: QueuedOp, outcome: OpOutcome, stats: WalletEngine["stats"]): void {
  if (op.state === State.Answered) return; // answered outcome_unknown while its statement ran
  answer(op);
  switch (outcome.kind) {
    case "applied":
      stats.opsApplied++;
      op.resolve({ txId: outcome.txId, amount: outcome.amount, balance: outcome.balance, replayed: false });
      break;
    case "replayed":
      op.resolve({ txId: outcome.txId, amount: outcome.amount, balance: outcome.balance, replayed: true });
      break;
    case "insufficient_funds":
      op.reject(
        new ConflictError("insufficient_funds", "balance too low for this spend", {
          balance: outcome.balance,
          amount: outcome.amount,
        }),
      );
      break;
    case "idempotency_mismatch":
      op.reject(new IdempotencyKeyReusedError());
      break;
    case "unknown_user":
      op.reject(new UnauthorizedError("user of this token does not exist; log in again"));
      break;
  }
}
