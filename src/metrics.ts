/** Prometheus metrics (prom-client): one registry, observed on the hot paths, read by GET /metrics. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

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

export const walletCommits = new Counter({
  name: "wallet_commits_total",
  help: "Wallet transactions committed",
  registers: [registry],
});
export const walletCommitFailures = new Counter({
  name: "wallet_commit_failures_total",
  help: "Wallet transactions that failed after retries",
  registers: [registry],
});

/** Gauges read from live state at scrape time, so the hot path pays nothing for them. */
export function registerWalletGauges(
  depth: () => { actors: number; queued: number; inFlight: number; inFlightLimit: number },
  poolMax: number,
  groupMax: number,
): void {
  new Gauge({
    name: "wallet_inflight_limit",
    help: "Group commits allowed in flight now (measured)",
    registers: [registry],
    collect() {
      this.set(depth().inFlightLimit);
    },
  });
  new Gauge({
    name: "wallet_group_limit",
    help: "Most users' drains in one group commit",
    registers: [registry],
    collect() {
      this.set(groupMax);
    },
  });
  new Gauge({
    name: "wallet_live_actors",
    help: "User actors with queued or in-flight work",
    registers: [registry],
    collect() {
      this.set(depth().actors);
    },
  });
  new Gauge({
    name: "wallet_mailbox_depth",
    help: "Wallet requests queued in all mailboxes",
    registers: [registry],
    collect() {
      this.set(depth().queued);
    },
  });
  new Gauge({
    name: "db_pool_in_use",
    help: "Database connections held by wallet transactions",
    registers: [registry],
    collect() {
      this.set(depth().inFlight);
    },
  });
  new Gauge({
    name: "db_pool_max",
    help: "Database pool size",
    registers: [registry],
    collect() {
      this.set(poolMax);
    },
  });
}

/** Every answered request per route and status; the error-rate alert divides its 5xx by its total. */
export const httpRequests = new Counter({
  name: "http_requests_total",
  help: "HTTP requests answered, by route and status",
  labelNames: ["method", "route", "status"] as const,
  registers: [registry],
});

/** Users whose balance differs from the sum of their ledger, as of the last audit (src/modules/audit). */
export const balanceDiscrepancies = new Gauge({
  name: "wallet_balance_discrepancies",
  help: "Users whose users.balance differs from sum(wallet_ledger.amount), as of the last audit",
  registers: [registry],
});

export const auditRuns = new Counter({
  name: "wallet_audit_runs_total",
  help: "Ledger audits completed",
  registers: [registry],
});
export const auditUsersChecked = new Counter({
  name: "wallet_audit_users_checked_total",
  help: "Users whose balance the audit compared with their ledger",
  registers: [registry],
});
export const auditDuration = new Histogram({
  name: "wallet_audit_duration_seconds",
  help: "Time one ledger audit took",
  buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60],
  registers: [registry],
});

/** The last finished pipeline run and the one in progress, as the pipeline_runs table says (shared by every instance). */
export interface PipelineRunState {
  last?: { durationS: number; succeeded: boolean; finishedAtS: number };
  /** seconds the run in progress has been going; 0 when none */
  runningS: number;
}

/** Pipeline gauges, read from the database at scrape time (cached briefly, so many scrapers cost one query). */
export function registerPipelineGauges(read: () => Promise<PipelineRunState>): void {
  let cached: { at: number; state: Promise<PipelineRunState> } | undefined;
  const state = () => {
    if (!cached || performance.now() - cached.at > 2000)
      cached = { at: performance.now(), state: read().catch(() => ({ runningS: 0 })) };
    return cached.state;
  };
  const gauge = (name: string, help: string, value: (s: PipelineRunState) => number | undefined) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const v = value(await state());
        if (v !== undefined) this.set(v);
      },
    });
  gauge("pipeline_last_run_duration_seconds", "Duration of the last finished pipeline run", (s) => s.last?.durationS);
  gauge("pipeline_last_run_success", "1 when the last finished pipeline run succeeded, 0 when it failed", (s) =>
    s.last ? Number(s.last.succeeded) : undefined,
  );
  gauge(
    "pipeline_last_run_end_timestamp_seconds",
    "Unix time the last pipeline run finished",
    (s) => s.last?.finishedAtS,
  );
  gauge(
    "pipeline_run_in_progress_seconds",
    "Seconds the pipeline run in progress has been going (0: none)",
    (s) => s.runningS,
  );
}

/** Serves GET /metrics alone on its own port (METRICS_PORT), so the API port need not expose it. */
export function startMetricsServer(port: number): { port: number; stop: () => void } {
  const server = Bun.serve({
    port,
    hostname: "0.0.0.0",
    async fetch(request) {
      if (new URL(request.url).pathname !== "/metrics") return new Response("not found\n", { status: 404 });
      return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
    },
  });
  return { port: server.port!, stop: () => server.stop(true) };
}

export const pipelineRunsFinished = new Counter({
  name: "pipeline_runs_total",
  help: "Pipeline runs this instance finished, by status",
  labelNames: ["trigger", "status"] as const,
  registers: [registry],
});
