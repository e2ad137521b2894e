/** The cluster's parts that need no cluster: the HAProxy config generator, the script's refusals, /health's instance id. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { composeConfig, findHaproxy, haproxyConfig } from "../scripts/cluster/haproxy";
import { BODY_LIMIT_BYTES } from "../src/plugins/request-context";
import { call } from "./helpers";

const ROOT = join(import.meta.dir, "..");
const haproxy = findHaproxy();

describe("haproxy.cfg generator", () => {
  const config = haproxyConfig({
    listenPort: 18000,
    backends: {
      kind: "static",
      servers: [
        { name: "i1", host: "127.0.0.1", port: 18001 },
        { name: "i2", host: "127.0.0.1", port: 18002 },
      ],
    },
    requestTimeoutMs: 7000,
  });

  test("hashes on Authorization (consistent), checks /health, and keeps the server's body limit and timeouts", () => {
    for (const line of [
      "balance hdr(Authorization)",
      "hash-type consistent",
      "http-check send meth GET uri /health",
      `req.hdr_val(content-length) gt ${BODY_LIMIT_BYTES}`,
      "timeout http-request 7000ms",
      "timeout server 9000ms", // the server answers within the request timeout, or a 503 one second after it
      "server i1 127.0.0.1:18001 check",
      "server i2 127.0.0.1:18002 check",
    ])
      expect(config).toContain(line);
  });

  test("the committed deploy/haproxy/haproxy.cfg is the generator's output (regenerate with bun scripts/cluster/haproxy.ts --compose)", () => {
    expect(readFileSync(join(ROOT, "deploy/haproxy/haproxy.cfg"), "utf8")).toBe(composeConfig());
  });

  test.skipIf(!haproxy)("haproxy -c accepts both the cluster's and the compose config", () => {
    const dir = mkdtempSync(join(tmpdir(), "haproxy-cfg-"));
    try {
      for (const [name, text] of [
        ["cluster.cfg", config],
        ["compose.cfg", composeConfig()],
      ]) {
        writeFileSync(join(dir, name), text);
        const check = Bun.spawnSync([haproxy!, "-c", "-f", join(dir, name)]);
        expect({ name, exit: check.exitCode, out: check.exitCode ? check.stderr.toString() : "" }).toEqual({
          name,
          exit: 0,
          out: "",
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm run cluster refuses what cannot work (exit 2, says why)", () => {
  const run = (env: Record<string, string | undefined>, args: string[] = ["--instances", "2"]) => {
    const result = Bun.spawnSync([process.execPath, "scripts/cluster.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: undefined, ...env },
    });
    return { exit: result.exitCode, out: result.stdout.toString() + result.stderr.toString() };
  };
  const pg = "postgres://postgres@127.0.0.1:1/none";

  test("DATABASE_URL unset or PGlite", () => {
    expect(run({})).toMatchObject({ exit: 2, out: expect.stringContaining("DATABASE_URL must be a PostgreSQL URL") });
    expect(run({ DATABASE_URL: "memory://" })).toMatchObject({
      exit: 2,
      out: expect.stringContaining("cannot share PGlite"),
    });
  });

  test("a bad --instances or an unknown flag", () => {
    expect(run({ DATABASE_URL: pg }, ["--instances", "0"])).toMatchObject({
      exit: 2,
      out: expect.stringContaining("--instances"),
    });
    expect(run({ DATABASE_URL: pg }, ["--replicas", "2"])).toMatchObject({
      exit: 2,
      out: expect.stringContaining("unknown flag --replicas"),
    });
  });

  test("no haproxy on PATH: how to install it", () => {
    const noHaproxy = mkdtempSync(join(tmpdir(), "no-haproxy-"));
    try {
      expect(run({ DATABASE_URL: pg, PATH: `${noHaproxy}:${dirname(process.execPath)}` })).toMatchObject({
        exit: 2,
        out: expect.stringContaining("apt-get install -y haproxy"),
      });
    } finally {
      rmSync(noHaproxy, { recursive: true, force: true });
    }
  });
});

test("GET /health names the instance that answered (INSTANCE_ID, default hostname:pid)", async () => {
  const response = await call("GET", "/health");
  expect(response.json.instance).toBe(process.env.INSTANCE_ID || `${hostname()}:${process.pid}`);
});
