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
function flushLogs(): void {
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

// JSON.stringify leaves these raw: U+2028/2029 end a line for many log viewers and JavaScript before ES2019,
// format characters (bidi controls, zero-width) make a line read differently from what it holds
const INVISIBLE = /[\p{Cf}\u2028\u2029]/u;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, "gu");
const escapeUnits = (char: string) =>
  Array.from({ length: char.length }, (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");

/** One log line: JSON with control, line-separator, bidi and other format characters escaped. */
export function formatLogLine(level: Level, msg: string, fields: Record<string, unknown>, time = new Date()): string {
  // JSON.stringify escapes control characters, so echoed values cannot forge log lines
  const line = JSON.stringify({ time: time.toISOString(), level, msg, ...fields });
  return (INVISIBLE.test(line) ? line.replace(INVISIBLE_ALL, escapeUnits) : line) + "\n";
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (LEVELS[level] < threshold) return;
  pending += formatLogLine(level, msg, fields);
  // one write per tick instead of one per request: under load, lines of many requests share a syscall
  if (pending.length >= FLUSH_BYTES) flushLogs();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushLogs);
  }
}
