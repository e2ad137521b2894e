/** The run's stage timings (RunResult.stages) and the progress calls that report them. */
import type { ProgressFn } from "../pool.ts";

export interface StageTiming {
  name: string;
  ms: number;
  rows: number;
}

const rate = (rows: number, ms: number) => rows / Math.max(ms / 1000, 1e-6);

export class StageLog {
  readonly stages: StageTiming[] = [];
  constructor(private readonly progress: ProgressFn | undefined) {}

  /** Runs a synchronous stage, times it and reports it. */
  timed<T>(name: string, rows: number, fn: () => T): T {
    this.progress?.(name, 0, 0, { done: false });
    const t0 = performance.now();
    const out = fn();
    const ms = performance.now() - t0;
    this.stages.push({ name, ms, rows });
    this.progress?.(name, rows, rate(rows, ms), { done: true, fraction: 1 });
    return out;
  }

  /** Starts a stage that spans awaits; the returned function ends it with its row count. */
  start(name: string): (rows: number) => void {
    this.progress?.(name, 0, 0, { done: false });
    const t0 = performance.now();
    return (rows) => {
      const ms = performance.now() - t0;
      this.stages.push({ name, ms, rows });
      this.progress?.(name, rows, rate(rows, ms), { done: true, fraction: 1 });
    };
  }

  /** Records a stage timed elsewhere (the loads time themselves on the pool) at `index`. */
  insert(index: number, timing: StageTiming): void {
    this.stages.splice(index, 0, timing);
  }
}
