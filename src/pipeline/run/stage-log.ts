/** The run's stage timings (RunResult.stages) and the progress calls that report them. */
import type { ProgressFn } from "../pool.ts";
import { FILE_KINDS, FILES } from "../tables.ts";

/** Stages in pipeline order: the log lists them so, whatever order they finished in (they overlap). */
export const STAGE_ORDER = [
  ...FILE_KINDS.map((kind) => `load ${FILES[kind]}`),
  "filter",
  "dedupe",
  "chargebacks",
  "sort",
  "reconcile",
  "roas",
  "anomaly",
  "arpdau",
  "write",
];
function rank(name: string): number {
  const at = STAGE_ORDER.indexOf(name);
  return at === -1 ? STAGE_ORDER.length : at;
}

export interface StageTiming {
  name: string;
  ms: number;
  rows: number;
}

const rate = (rows: number, ms: number) => rows / Math.max(ms / 1000, 1e-6);

export class StageLog {
  private readonly done: StageTiming[] = [];
  constructor(private readonly progress: ProgressFn | undefined) {}

  /** The finished stages in pipeline order (an unknown name last). */
  get stages(): StageTiming[] {
    return [...this.done].sort((a, b) => rank(a.name) - rank(b.name));
  }

  /** Runs a synchronous stage, times it and reports it. */
  timed<T>(name: string, rows: number, fn: () => T): T {
    this.progress?.(name, 0, 0, { done: false });
    const t0 = performance.now();
    const out = fn();
    const ms = performance.now() - t0;
    this.done.push({ name, ms, rows });
    this.progress?.(name, rows, rate(rows, ms), { done: true, fraction: 1 });
    return out;
  }

  /** Starts a stage that spans awaits; the returned function ends it with its row count. */
  start(name: string): (rows: number) => void {
    this.progress?.(name, 0, 0, { done: false });
    const t0 = performance.now();
    return (rows) => {
      const ms = performance.now() - t0;
      this.done.push({ name, ms, rows });
      this.progress?.(name, rows, rate(rows, ms), { done: true, fraction: 1 });
    };
  }

  /** Records a stage timed elsewhere (the loads time themselves on the pool). */
  add(timing: StageTiming): void {
    this.done.push(timing);
  }
}
