/** Prometheus metrics (prom-client): one registry, observed on the hot paths, read by GET /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpDuration = new Histogram({
  name: "http_request_duration_seconds",
  help: "HTTP request duration by route",
  labelNames: ["method", "route", "status"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const earnBatchSize = new Histogram({
  name: "wallet_batch_size",
  help: "Requests of one user applied per mailbox drain",
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
  registers: [registry],
});

export const commitGroupSize = new Histogram({
  name: "wallet_commit_group_users",
  help: "Users' drains merged into one transaction",
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
  registers: [registry],
});

export const commitDuration = new Histogram({
  name: "wallet_commit_duration_seconds",
  help: "Round trip of one group commit statement",
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [registry],
});

export const walletCommits = new Counter({ name: "wallet_commits_total", help: "Wallet transactions committed", registers: [registry] });
export const walletCommitFailures = new Counter({ name: "wallet_commit_failures_total", help: "Wallet transactions that failed after retries", registers: [registry] });

/** Gauges read from live state at scrape time, so the hot path pays nothing for them. */
export function registerWalletGauges(
  depth: () => { actors: number; queued: number; inFlight: number; inFlightLimit: number },
  poolMax: number,
  groupMax: number,
): void {
  new Gauge({ name: "wallet_inflight_limit", help: "Group commits allowed in flight now (measured)", registers: [registry], collect() { this.set(depth().inFlightLimit); } });
  new Gauge({ name: "wallet_group_limit", help: "Most users' drains in one group commit", registers: [registry], collect() { this.set(groupMax); } });
  new Gauge({ name: "wallet_live_actors", help: "User actors with queued or in-flight work", registers: [registry], collect() { this.set(depth().actors); } });
  new Gauge({ name: "wallet_mailbox_depth", help: "Wallet requests queued in all mailboxes", registers: [registry], collect() { this.set(depth().queued); } });
  new Gauge({ name: "db_pool_in_use", help: "Database connections held by wallet transactions", registers: [registry], collect() { this.set(depth().inFlight); } });
  new Gauge({ name: "db_pool_max", help: "Database pool size", registers: [registry], collect() { this.set(poolMax); } });
}
