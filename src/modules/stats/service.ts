/**
 * /stats: the caller's counts with a token, everyone's without. The global scope is open to anyone,
 * so its cost is bounded: one global count runs at a time, identical calls share it, and its result
 * is reused for STATS_CACHE_MS (the per-client limit on anonymous calls bounds the rest).
 */
import { config } from "../../config";
import { OverloadedError } from "../../errors";
import { globalEventStats, userEventStats } from "../events/service";

type GlobalStats = Awaited<ReturnType<typeof globalEventStats>>;

/** Distinct from/to pairs whose result is kept; the oldest goes first. */
const GLOBAL_CACHE_MAX_ENTRIES = 256;
const globalResults = new Map<string, { at: number; result: Promise<GlobalStats> }>();
/** Global counts waiting for their turn before more are refused with a 503. */
const GLOBAL_QUEUE_MAX = 32;
// one global count at a time: a crowd of anonymous callers holds at most one database connection
let globalQueue: Promise<unknown> = Promise.resolve();
let waiting = 0;

function queued<T>(run: () => Promise<T>): Promise<T> {
  if (waiting >= GLOBAL_QUEUE_MAX)
    throw new OverloadedError(503, "busy", "too many global /stats queries waiting; retry shortly", 1);
  waiting++;
  const start = () => {
    waiting--;
    return run();
  };
  const result = globalQueue.then(start, start);
  globalQueue = result.catch(() => undefined);
  return result;
}

/** Everyone's counts for [from, to]; a result younger than STATS_CACHE_MS (or still running) is shared. */
export function cachedGlobalStats(from?: string, to?: string, now = performance.now()): Promise<GlobalStats> {
  const key = `${from ?? ""}|${to ?? ""}`;
  const cached = globalResults.get(key);
  if (cached && now - cached.at < config.statsCacheMs) return cached.result;
  const result = queued(() => globalEventStats(from, to));
  globalResults.delete(key);
  globalResults.set(key, { at: now, result });
  // a failure (a bad date, a lost connection) is not kept: the next caller tries again
  result.catch(() => globalResults.get(key)?.result === result && globalResults.delete(key));
  for (const oldest of globalResults.keys()) {
    if (globalResults.size <= GLOBAL_CACHE_MAX_ENTRIES) break;
    globalResults.delete(oldest);
  }
  return result;
}

export function eventStats(userId: string | undefined, from?: string, to?: string) {
  return userId === undefined ? cachedGlobalStats(from, to) : userEventStats(userId, from, to);
}
