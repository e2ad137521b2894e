/**
 * Operating it: every metric name the alert rules and the Grafana dashboard use exists in /metrics
 * of a running server; /metrics on its own port (METRICS_PORT); production refuses to start
 * without an ADMIN_TOKEN of 32+ characters; per-route request and 5xx counters.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "bun";
import { call, createTempDatabase, postgresAvailable, type ServerProcess, startServer } from "./helpers";

const ROOT = join(import.meta.dir, "..");
const inPglitePass = (process.env.DATABASE_URL ?? "memory://").startsWith("memory");

/** PromQL functions, aggregations and keywords: identifiers that are not metric names. */
const NOT_METRICS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "inf",
  "nan",
]);

/** The metric names a PromQL expression reads (label matchers, label lists, ranges and functions removed). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = bare.slice(match.index! + match[0].length).trimStart();
    if (rest.startsWith("(") || NOT_METRICS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** Series names a /metrics text exposes: counters and gauges by name, histograms and summaries by their suffixed series. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    else if (type === "summary") for (const suffix of ["", "_sum", "_count"]) names.add(name + suffix);
    else names.add(name!);
  }
  return names;
}

function ruleExpressions(): { where: string; expr: string }[] {
  const rules = Bun.YAML.parse(readFileSync(join(ROOT, "deploy/prometheus/alerts.yml"), "utf8")) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alerts.yml ${r.alert}`, expr: String(r.expr) })));
}

function dashboardExpressions(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(join(ROOT, "deploy/grafana/dashboard.json"), "utf8")) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `dashboard.json "${p.title}"`, expr: t.expr })),
  );
}

function freePort(): number {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

test("metricNames reads the names out of PromQL, so an unknown metric in a rule is caught", () => {
  expect(
    metricNames(
      'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!="/metrics"}[5m]))) > 0.5',
    ).sort(),
  ).toEqual(["http_request_duration_seconds_bucket"]);
  expect(metricNames("max by (instance) (db_pool_in_use / db_pool_max) > 0.9").sort()).toEqual([
    "db_pool_in_use",
    "db_pool_max",
  ]);
  expect(metricNames("max(time() - pipeline_last_run_end_timestamp_seconds) < 3600 or vector(0)")).toEqual([
    "pipeline_last_run_end_timestamp_seconds",
  ]);
  const exposed = exposedNames("# TYPE http_requests_total counter\n# TYPE wallet_batch_size histogram\n");
  const missing = metricNames(
    'sum(rate(http_requests_toal{status=~"5.."}[5m])) / sum(rate(wallet_batch_size_count[5m]))',
  ).filter((n) => !exposed.has(n));
  expect(missing).toEqual(["http_requests_toal"]);
});

describe.skipIf(!inPglitePass)("a running server (NODE_ENV=production, METRICS_PORT)", () => {
  let server: ServerProcess | undefined;
  let metricsPort = 0;
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    server?.process.kill();
    await server?.process.exited;
    await drop?.();
  });

  test("starts in production with JWT_SECRET and ADMIN_TOKEN of 32+ chars; /metrics only on METRICS_PORT", async () => {
    metricsPort = freePort();
    // a PostgreSQL database when there is one: the server starts faster than on PGlite, which compiles WASM
    let databaseUrl = "memory://";
    if (await postgresAvailable()) ({ url: databaseUrl, drop } = await createTempDatabase("ops"));
    server = await startServer({
      DATABASE_URL: databaseUrl,
      NODE_ENV: "production",
      JWT_SECRET: "j".repeat(32),
      ADMIN_TOKEN: "a".repeat(32),
      METRICS_PORT: String(metricsPort),
      AUDIT_INTERVAL_S: "1",
    });
    const onApiPort = await fetch(`${server.url}/metrics`);
    expect(onApiPort.status).toBe(404);
    expect(((await onApiPort.json()) as any).error.code).toBe("not_found");
    const onOwnPort = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(onOwnPort.status).toBe(200);
    expect(onOwnPort.headers.get("content-type")).toContain("text/plain");
    expect((await fetch(`http://127.0.0.1:${metricsPort}/health`)).status).toBe(404);
  }, 120_000);

  test("every metric name in alerts.yml and dashboard.json exists in /metrics", async () => {
    expect(server).toBeDefined();
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const exposed = exposedNames(text);
    const used = [...ruleExpressions(), ...dashboardExpressions()];
    expect(used.length).toBeGreaterThan(20);
    const missing = used.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !exposed.has(name))
        .map((name) => `${name} (${where})`),
    );
    expect(missing).toEqual([]);
  }, 30_000);
});

describe.skipIf(!inPglitePass)("NODE_ENV=production refuses to start without a real ADMIN_TOKEN", () => {
  for (const [label, token] of [
    ["unset", undefined],
    ["31 characters", "t".repeat(31)],
  ] as const) {
    test(`ADMIN_TOKEN ${label}: exit 1 naming the variable`, () => {
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        NODE_ENV: "production",
        JWT_SECRET: "j".repeat(40),
        DATABASE_URL: "memory://",
        PORT: "0",
      };
      delete env.ADMIN_TOKEN;
      if (token) env.ADMIN_TOKEN = token;
      const run = spawnSync({ cmd: [process.execPath, "src/index.ts"], env, cwd: ROOT, timeout: 60_000 });
      expect(run.exitCode).toBe(1);
      const line = JSON.parse(run.stdout.toString().trim().split("\n").pop()!);
      expect(line).toMatchObject({
        level: "error",
        msg: "start-up failed at config",
        error: "ADMIN_TOKEN must be set to at least 32 characters when NODE_ENV=production",
      });
    }, 60_000);
  }
});

test("http_requests_total counts answers per route and status", async () => {
  const metric = async (route: string, status: number) => {
    const text = (await call("GET", "/metrics")).text;
    const line = text
      .split("\n")
      .find((l) => l.startsWith(`http_requests_total{method="GET",route="${route}",status="${status}"}`));
    return line ? Number(line.split(" ").pop()) : 0;
  };
  const before = await metric("/pipeline/runs/:runId", 422);
  expect((await call("GET", "/pipeline/runs/not-a-uuid")).status).toBe(422);
  expect((await call("GET", "/pipeline/runs/not-a-uuid")).status).toBe(422);
  // counted after the response is sent (onAfterResponse)
  const deadline = Date.now() + 5000;
  while ((await metric("/pipeline/runs/:runId", 422)) < before + 2 && Date.now() < deadline) await Bun.sleep(20);
  expect(await metric("/pipeline/runs/:runId", 422)).toBe(before + 2);
});
