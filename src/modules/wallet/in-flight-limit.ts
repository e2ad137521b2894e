/**
 * How many group commits the wallet keeps in flight, decided by measurement, not tied to the pool size.
 *
 * Fewer transactions in flight make bigger groups, so PostgreSQL's per-transaction cost (WAL flush,
 * locks) is paid once per many requests; more in flight overlap the database's work with the
 * server's. Which wins depends on the machine and the load, so the limit probes: it starts at `min`;
 * while the engine is saturated (work waiting for a slot), it measures committed requests per second
 * for one window at the current limit, one at limit + 1 and one at limit - 1, keeps the best (the
 * lower limit when two are within `gain` of each other: bigger groups, lower latency for the same
 * rate), and holds it for `holdWindows` windows before probing again.
 */
export interface InFlightLimitOptions {
  /** fewest transactions in flight (and the start) */
  min: number;
  /** most transactions in flight */
  max: number;
  /** shortest measurement window, ms */
  windowMs?: number;
  /** fewest commits in a window before it counts */
  windowCommits?: number;
  /** relative difference in requests/s that counts as better, not noise */
  gain?: number;
  /** windows to keep a decision before probing again */
  holdWindows?: number;
}

type Phase = "hold" | "base" | "up" | "down";

export class InFlightLimit {
  /** transactions allowed in flight now */
  current: number;
  private readonly windowMs: number;
  private readonly windowCommits: number;
  private readonly gain: number;
  private readonly holdWindows: number;
  private windowStart = performance.now();
  private ops = 0;
  private commits = 0;
  private saturatedCommits = 0;
  private phase: Phase = "base";
  private holdLeft = 0;
  private base = 0;
  private rates = new Map<number, number>();

  constructor(private readonly options: InFlightLimitOptions) {
    this.current = options.min;
    this.base = options.min;
    this.windowMs = options.windowMs ?? 500;
    this.windowCommits = options.windowCommits ?? 10;
    this.gain = options.gain ?? 0.05;
    this.holdWindows = options.holdWindows ?? 10;
  }

  /** Records one finished commit of `ops` requests; `saturated` = work was waiting for a slot when it finished. */
  record(ops: number, saturated: boolean, now = performance.now()): void {
    this.ops += ops;
    this.commits++;
    if (saturated) this.saturatedCommits++;
    const elapsed = now - this.windowStart;
    if (elapsed < this.windowMs || this.commits < this.windowCommits) return;
    const rate = (this.ops * 1000) / elapsed;
    const saturatedWindow = this.saturatedCommits >= this.commits * 0.75;
    this.windowStart = now;
    this.ops = this.commits = this.saturatedCommits = 0;
    this.window(rate, saturatedWindow);
  }

  private window(rate: number, saturated: boolean): void {
    if (this.phase === "hold") {
      if (--this.holdLeft <= 0) this.phase = "base";
      return;
    }
    // below capacity the rate is the arrival rate whatever the limit: nothing to learn, keep the base
    if (!saturated) this.decide(false);
    else {
      this.rates.set(this.current, rate);
      if (this.phase === "base" && this.base < this.options.max) this.probe("up", this.base + 1);
      else if (this.phase !== "down" && this.base > this.options.min) this.probe("down", this.base - 1);
      else this.decide(true);
    }
  }

  private probe(phase: Phase, limit: number): void {
    this.phase = phase;
    this.current = limit;
  }

  private decide(measured: boolean): void {
    let best = this.base;
    if (measured) {
      const top = Math.max(...this.rates.values());
      // the lowest limit within `gain` of the best rate
      best = Math.min(...[...this.rates].filter(([, r]) => r >= top * (1 - this.gain)).map(([limit]) => limit));
    }
    this.rates.clear();
    this.base = this.current = best;
    this.phase = "hold";
    this.holdLeft = measured ? this.holdWindows : 4;
  }
}
