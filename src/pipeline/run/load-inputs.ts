/**
 * Step 1 of a run: the four input files load on the pool. purchases_raw.csv is read first, so
 * the main thread curates the purchases while the pool reads the other files (with the purchases
 * last, the pool sat idle during the curation: ~0.4 s at 1M). Without --as-of, D-1 comes
 * from the purchases, so sessions.csv is read once they are loaded and keeps only D-1 rows (not
 * every session of the file in memory); the confirmed purchases keep the pool busy meanwhile.
 */
import { join } from "node:path";
import type { Piscina } from "piscina";
import { PipelineInputError } from "../errors.ts";
import { loadOnPool, type ProgressFn } from "../pool.ts";
import { planRead, type ReadPlan } from "../read/plan.ts";
import { type ConfirmedTable, FILE_KINDS, FILES, type FileKind, type Loaded, type PurchasesTable } from "../tables.ts";
import type { StageLog } from "./stage-log.ts";

type Load = ReturnType<typeof loadOnPool>;

export class InputLoads {
  private readonly loads: Partial<Record<FileKind, Load>>;
  private readonly sessionsPlan: Promise<ReadPlan> | undefined;

  /**
   * Queues the loads: purchases now; confirmed and costs (sessions too when D-1 is known:
   * `explicitAsOf`) once the pool has read the purchases.
   */
  constructor(
    private readonly pool: Piscina,
    private readonly dataDir: string,
    explicitAsOf: number | undefined,
    private readonly progress: ProgressFn | undefined,
  ) {
    // sessions.csv's head is probed now, so its reads can be queued the moment D-1 is known
    this.sessionsPlan = explicitAsOf === undefined ? planRead("sessions", this.path("sessions")) : undefined;
    this.sessionsPlan?.catch(() => {}); // a bad header surfaces through the sessions load
    // the other files are probed now; their reads queue the moment the pool has read the
    // purchases (queued together, the pool interleaves them and the purchases finish last)
    const gates: (() => void)[] = [];
    const later = (kind: FileKind, onlyDay?: number): Load => {
      const { load, open } = gatedLoad(planRead(kind, this.path(kind)), (plan) => this.load(kind, onlyDay, plan));
      gates.push(open);
      return load;
    };
    const openGates = () => {
      for (const open of gates.splice(0)) open();
    };
    const purchases = this.load("purchases", undefined, undefined, openGates);
    purchases.catch(openGates); // a purchases file that cannot be planned is never read
    this.loads = {
      purchases,
      confirmed: later("confirmed"),
      costs: later("costs"),
      sessions: explicitAsOf !== undefined ? later("sessions", explicitAsOf - 1) : undefined,
    };
  }

  private path(kind: FileKind): string {
    return join(this.dataDir, FILES[kind]);
  }

  private load(kind: FileKind, onlyDay?: number, planned?: ReadPlan, onRead?: () => void): Load {
    const started = loadOnPool(this.pool, kind, this.path(kind), { onlyDay, progress: this.progress, planned, onRead });
    started.catch(() => {}); // settled in settle(), in SPEC file order
    return started;
  }

  /** The purchases table; when it fails, every other load settles first (purchases_raw.csv is first in SPEC order). */
  async purchases(): Promise<PurchasesTable> {
    try {
      return (await this.loads.purchases!).loaded.table as PurchasesTable;
    } catch (error) {
      // NaN: no day to keep, the file is only validated
      this.loads.sessions ??= this.sessionsPlan!.then((plan) => this.load("sessions", NaN, plan));
      this.loads.sessions.catch(() => {});
      await Promise.allSettled(Object.values(this.loads));
      throw error;
    }
  }

  /** Queues sessions.csv with the day to keep, when D-1 was not known at the start (NaN: validate only). */
  async startSessions(d1: number): Promise<void> {
    if (this.loads.sessions) return;
    const plan = await this.sessionsPlan!.catch((error: unknown) => error);
    this.loads.sessions = plan instanceof Error ? Promise.reject(plan) : this.load("sessions", d1, plan as ReadPlan);
    this.loads.sessions.catch(() => {});
  }

  /**
   * The confirmed purchases as soon as they are loaded (the reconciliation need not wait for the
   * sessions). When that load failed or kept no row, every load settles first and the error is
   * the one settle() reports (the first in SPEC order).
   */
  async confirmed(log: StageLog): Promise<ConfirmedTable> {
    const done = await this.loads.confirmed!.catch(() => undefined);
    if (done && done.loaded.usable > 0) return done.loaded.table as ConfirmedTable;
    return (await this.settle(log)).confirmed.table as ConfirmedTable;
  }

  /**
   * All four loads settled: the first failure in SPEC order, then the first file with no usable
   * row. The load stages go first in the stage log, in SPEC order.
   */
  async settle(log: StageLog): Promise<Record<FileKind, Loaded>> {
    const loaded = {} as Record<FileKind, Loaded>;
    const results = await Promise.allSettled(FILE_KINDS.map((kind) => this.loads[kind]!));
    FILE_KINDS.forEach((kind, i) => {
      const result = results[i]!;
      if (result.status === "rejected") throw result.reason;
      loaded[kind] = result.value.loaded;
    });
    for (const kind of FILE_KINDS) {
      const { quality: q, usable } = loaded[kind];
      if (usable === 0) {
        const first = q.firstBad!;
        const message = `no usable row: all ${q.rows} data rows were skipped (first: ${first.reason})`;
        throw new PipelineInputError(FILES[kind], first.line, first.column, message);
      }
    }
    for (const kind of FILE_KINDS) {
      const { ms } = await this.loads[kind]!;
      log.add({ name: `load ${FILES[kind]}`, ms, rows: loaded[kind].quality.rows });
    }
    return loaded;
  }
}

/**
 * A load that starts when `open` is called: synchronously, with its plan when the probe has
 * finished by then (its reads are queued before the caller goes on), else once it has.
 */
function gatedLoad(plan: Promise<ReadPlan>, start: (plan: ReadPlan) => Load): { load: Load; open: () => void } {
  let probed: ReadPlan | undefined;
  plan.then(
    (p) => {
      probed = p;
    },
    () => {},
  );
  let open!: () => void;
  const load: Load = new Promise((resolve, reject) => {
    open = () => (probed ? start(probed) : plan.then(start)).then(resolve, reject);
  });
  load.catch(() => {}); // settled in settle(), in SPEC file order
  return { load, open };
}
