/**
 * `npm run cluster` as a child process, for test/cluster.test.ts and bench/cluster.ts: start it,
 * wait for its `cluster ready` line (every pid, port and HAProxy's admin socket), stop it; and
 * HAProxy's view of its servers through that socket.
 */
import { createServer } from "node:net";

interface ClusterInstance {
  id: string;
  pid: number;
  port: number;
  url: string;
}

export interface RunningCluster {
  proc: Bun.Subprocess;
  /** HAProxy's address */
  url: string;
  haproxy: { pid: number; config: string; statsSocket: string };
  instances: ClusterInstance[];
  /** stdout and stderr so far */
  output: () => string;
  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`, null then) */
  stop: (timeoutMs?: number) => Promise<number | null>;
}

export interface SpawnClusterOptions {
  /** the command that starts the cluster, e.g. ["npm", "run", "--silent", "cluster", "--"] */
  command: string[];
  instances: number;
  /** PORT, DATABASE_URL and the rest; added to this process's environment */
  env: Record<string, string>;
  cwd: string;
  /** how long start-up may take (default 90 s) */
  timeoutMs?: number;
}

/** Starts the cluster and resolves once it reports `cluster ready`; throws with its output when it exits or times out first. */
export async function spawnCluster(options: SpawnClusterOptions): Promise<RunningCluster> {
  const proc = Bun.spawn([...options.command, "--instances", String(options.instances)], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  // biome-ignore lint/suspicious/noExplicitAny: the cluster's JSON ready line, checked field by field below
  let ready: Record<string, any> | undefined;
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      if (!ready && output.includes('"cluster ready"')) {
        const line = output.split("\n").find((l) => l.includes('"msg":"cluster ready"') && l.endsWith("}"));
        if (line) ready = JSON.parse(line);
      }
    }
  };
  void collect(proc.stdout as ReadableStream<Uint8Array>);
  void collect(proc.stderr as ReadableStream<Uint8Array>);
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (!ready) {
    if (proc.exitCode !== null || proc.signalCode)
      throw new Error(
        `cluster exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${output.slice(-4000)}`,
      );
    if (Date.now() > deadline) {
      proc.kill("SIGTERM");
      throw new Error(`cluster not ready in time:\n${output.slice(-4000)}`);
    }
    await Bun.sleep(100);
  }
  const stop = async (timeoutMs = 60_000) => {
    if (proc.exitCode === null && !proc.signalCode) proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(timeoutMs).then(() => false)]);
    if (!exited) {
      proc.kill("SIGKILL");
      await proc.exited;
      return null;
    }
    return proc.exitCode;
  };
  return { proc, url: ready.url, haproxy: ready.haproxy, instances: ready.instances, output: () => output, stop };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}

/** A random base port such that base..base+count were all free a moment ago (the cluster needs consecutive ports). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let free = true;
    for (let port = base; port <= base + count && free; port++) free = await portFree(port);
    if (free) return base;
  }
  throw new Error(`no ${count + 1} consecutive free ports found`);
}

/** HAProxy's `show stat` through its admin socket: server name -> status (UP, DOWN, "UP 1/2", ...). */
export async function haproxyServerStatus(socketPath: string): Promise<Map<string, string>> {
  let text = "";
  const decoder = new TextDecoder();
  await new Promise<void>((resolve, reject) => {
    Bun.connect({
      unix: socketPath,
      socket: {
        open: (socket) => void socket.write("show stat\n"),
        data: (_socket, data) => {
          text += decoder.decode(data, { stream: true });
        },
        close: () => resolve(),
        error: (_socket, error) => reject(error),
      },
    }).catch(reject);
  });
  const [header, ...rows] = text.trim().split("\n");
  const columns = header.replace(/^# /, "").split(",");
  const name = columns.indexOf("svname"),
    status = columns.indexOf("status");
  const states = new Map<string, string>();
  for (const row of rows) {
    const cells = row.split(",");
    if (cells[name] !== "FRONTEND" && cells[name] !== "BACKEND") states.set(cells[name], cells[status]);
  }
  return states;
}
