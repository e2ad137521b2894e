/** One JSON object per line on stdout, filtered by LOG_LEVEL. */
import { writeSync } from "node:fs";
import { config } from "./config";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type Level = Exclude<keyof typeof LEVELS, "silent">;

const threshold = LEVELS[config.logLevel];
const FLUSH_BYTES = 64 * 1024;
let pending = "";
let flushScheduled = false;

/** Writes what is buffered; called on the next tick, when the buffer is full, and at exit. */
export function flushLogs(): void {
  flushScheduled = false;
  if (pending === "") return;
  const chunk = pending;
  pending = "";
  process.stdout.write(chunk);
}

// at exit there is no next tick: write synchronously so the last lines (e.g. "shutdown complete") survive
process.on("exit", () => {
  if (pending !== "") writeSync(1, pending);
  pending = "";
});

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (LEVELS[level] < threshold) return;
  // JSON.stringify escapes control characters, so echoed values cannot forge log lines
  pending += JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + "\n";
  // one write per tick instead of one per request: under load, lines of many requests share a syscall
  if (pending.length >= FLUSH_BYTES) flushLogs();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushLogs);
  }
}
