/**
 * Start-up in order, one log line per step: config, database + migrations, wallet actors, listen.
 * SIGTERM/SIGINT: stop accepting, drain every mailbox, close the pool, exit 0.
 */
// no static import of ./config: it validates the environment as it loads, and a bad value must
// reach the catch below (one log line, exit 1), not crash the module graph with a stack trace

async function main() {
  let step = "config";
  try {
    const { config, usingDefaultJwtSecret } = await import("./config");
    const { log } = await import("./logger");
    log("info", "config loaded", { port: config.port, nodeEnv: config.nodeEnv, earnBatchMax: config.earnBatchMax });
    if (usingDefaultJwtSecret) log("warn", "JWT_SECRET is the development default; set it (>= 32 chars) in production");

    step = "database";
    const { driver, migrateDatabase, closeDatabase } = await import("./db/client");
    await migrateDatabase();
    log("info", "database ready, migrations applied", { driver });

    step = "wallet";
    const { wallet } = await import("./modules/wallet/service");
    log("info", "wallet actors ready", {
      batchMax: config.earnBatchMax,
      groupCommitMax: config.groupCommitMax,
      mailboxMax: config.mailboxMax,
    });

    step = "worker pool";
    const { startPipelineThread, closePipelineThread, recoverRuns } = await import("./modules/pipeline/service");
    await recoverRuns(); // a run that was going when a server died is marked failed, never left 'running'
    startPipelineThread();
    log("info", "pipeline thread and worker pool started", { threads: config.pipelineWorkers });
    if (!config.adminToken) log("warn", "ADMIN_TOKEN is not set: POST /run-pipeline is open to anyone");

    step = "ledger audit";
    const { startLedgerAudit, stopLedgerAudit } = await import("./modules/audit/service");
    await startLedgerAudit(config.auditIntervalS);
    log("info", config.auditIntervalS > 0 ? "ledger audit scheduled" : "ledger audit off (AUDIT_INTERVAL_S=0)", {
      intervalS: config.auditIntervalS,
    });

    step = "metrics port";
    const { startMetricsServer } = await import("./metrics");
    const metricsServer = config.metricsPort === undefined ? undefined : startMetricsServer(config.metricsPort);
    if (metricsServer)
      log("info", "metrics on their own port; /metrics is not served on PORT", { metricsPort: metricsServer.port });

    step = "listen";
    const { app } = await import("./app");
    app.listen({ port: config.port, hostname: config.host, idleTimeout: config.idleTimeoutS });
    log("info", "listening", {
      host: config.host,
      url: `http://localhost:${app.server?.port}`,
      docs: `http://localhost:${app.server?.port}/docs`,
    });

    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log("info", "shutting down: draining wallet mailboxes", { signal });
      await app.server?.stop(false); // stop accepting; in-flight requests finish
      stopLedgerAudit();
      metricsServer?.stop();
      await wallet.shutdown();
      await closePipelineThread();
      await closeDatabase();
      log("info", "shutdown complete");
      process.exit(0);
    };
    // a driver's orphaned promise failing on a dropped connection must not kill a server whose state lives in committed transactions
    process.on("unhandledRejection", (reason) =>
      log("error", "unhandled promise rejection", { error: String((reason as Error)?.stack ?? reason) }),
    );
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
  } catch (error) {
    const message =
      (error as Error)?.name === "ConfigError" ? (error as Error).message : String((error as Error)?.stack ?? error);
    process.stdout.write(
      JSON.stringify({
        time: new Date().toISOString(),
        level: "error",
        msg: `start-up failed at ${step}`,
        error: message,
      }) + "\n",
    );
    process.exit(1);
  }
}

void main();
