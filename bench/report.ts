/** The result table of bench/earn.ts, in Markdown so it can be pasted into BENCHMARKS.md as is. */
import type { LoadResult } from "./lib";

export interface RunRow {
  scenario: string;
  title: string;
  config: string;
  load: LoadResult;
  /** % of one core over the load window; the machine has 200 % */
  cpu: { server: number; pg: number; wrk: number; other: number; idle: number };
  invariant: { ok: boolean; text: string };
  batchAvg: number;
  groupAvg: number;
  commits: number;
  /** group commits in flight the server had settled on at the end of the run */
  inFlightLimit: number;
  /** Markdown summary of the server's CPU profile (--profile) */
  profile?: string;
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const avg = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");

/** Credits per second (2xx earns / load window). */
export function creditsPerS(r: RunRow): number {
  return r.load.earn_ok / (r.load.elapsed_ms / 1000);
}

/** Requests answered per second, whatever their status. */
export function requestsPerS(r: RunRow): number {
  return r.load.received / (r.load.elapsed_ms / 1000);
}

/** Markdown: the results table, then the batched/naive ratio of every scenario. */
export function formatReport(rows: RunRow[]): string {
  const head = [
    "scenario",
    "config",
    "credits/s",
    "req/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "non-2xx",
    "errors",
    "avg batch",
    "users/commit",
    "commits/s",
    "in flight",
    "CPU % server/pg/wrk/other/idle",
    "invariant",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const l = r.load;
    const errors = l.errors.connect + l.errors.read + l.errors.write + l.errors.timeout;
    const codes = l.non2xx ? ` (${mergeCodes(l.codes)})` : "";
    const c = r.cpu;
    lines.push(
      `| ${r.scenario} | ${r.config} | ${r.scenario === "d" || r.scenario === "e" ? "-" : int(creditsPerS(r))} | ${int(requestsPerS(r))} | ` +
        `${ms(l.p50_ms)} | ${ms(l.p95_ms)} | ${ms(l.p99_ms)} | ${ms(l.max_ms)} | ${int(l.non2xx)}${codes} | ${int(errors)} | ` +
        `${avg(r.batchAvg)} | ${avg(r.groupAvg)} | ${int(r.commits / (l.elapsed_ms / 1000))} | ${int(r.inFlightLimit)} | ` +
        `${[c.server, c.pg, c.wrk, c.other, c.idle].map((x) => x.toFixed(0)).join("/")} | ${r.invariant.ok ? "ok" : "**VIOLATED**"} |`,
    );
  }
  const titles = [...new Map(rows.map((r) => [r.scenario, r.title])).entries()];
  lines.push("", "| scenario | what | batched / naive |", "|---|---|---|");
  for (const [scenario, title] of titles) {
    const batched = rows.find((r) => r.scenario === scenario && r.config === "batched");
    const naive = rows.find((r) => r.scenario === scenario && r.config === "naive");
    const http = scenario === "d" || scenario === "e";
    const rate = http ? requestsPerS : creditsPerS;
    const ratio = batched && naive ? `${(rate(batched) / rate(naive)).toFixed(2)}x${http ? " (req/s)" : ""}` : "-";
    lines.push(`| ${scenario} | ${title} | ${ratio} |`);
  }
  return lines.join("\n");
}

/** "429:5,429:3,503:1" (one entry per wrk thread) -> "429: 8, 503: 1". */
function mergeCodes(codes: string): string {
  const counts = new Map<string, number>();
  for (const part of codes.split(",").filter(Boolean)) {
    const [code, n] = part.split(":");
    counts.set(code, (counts.get(code) ?? 0) + Number(n));
  }
  return [...counts.entries()].map(([code, n]) => `${code}: ${n}`).join(", ");
}
