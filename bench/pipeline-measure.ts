/**
 * Process measurement for `bun run bench:pipeline`: wall time, user and system CPU, minor and
 * major page faults and peak RSS of a child process (/usr/bin/time; without it only wall time and
 * peak RSS, by VmHWM polling), the CPU that other processes took meanwhile
 * (this machine is shared), waiting for a quiet machine, and a memory guard that stops a child
 * before the machine runs out of memory (there is no swap: the kernel would pick a victim).
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** What /usr/bin/time reports of a child (and its waited-for descendants). */
export interface TimeFields {
  /** %e: elapsed wall seconds (10 ms resolution; wallMs is the bench's own clock) */
  elapsedS: number;
  /** %U, %S: CPU seconds in user and kernel mode */
  userS: number;
  sysS: number;
  /** %R, %F: minor (reclaimed, no I/O) and major (read from disk) page faults */
  minorFaults: number;
  majorFaults: number;
  /** %M: peak RSS in KiB */
  maxRssKiB: number;
}

/** The -f format of /usr/bin/time, in the order parseTimeOutput() reads it. */
export const TIME_FORMAT = "%e %U %S %R %F %M";

/**
 * The fields of TIME_FORMAT from /usr/bin/time's -o file: its last line (a line "Command exited
 * with non-zero status N" or "Command terminated by signal N" may come first). Undefined when
 * the line does not hold six numbers.
 */
export function parseTimeOutput(text: string): TimeFields | undefined {
  const f = text.trim().split("\n").pop()!.trim().split(/\s+/).map(Number);
  if (f.length !== 6 || f.some((v) => !Number.isFinite(v))) return undefined;
  const [elapsedS, userS, sysS, minorFaults, majorFaults, maxRssKiB] = f as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { elapsedS, userS, sysS, minorFaults, majorFaults, maxRssKiB };
}

/** What measure() reports. */
export interface Measured {
  code: number;
  wallMs: number;
  peakMiB: number;
  /** /usr/bin/time's fields (undefined without /usr/bin/time: the report prints n/a) */
  time?: TimeFields;
  /** average cores other processes used during the run (undefined without /usr/bin/time) */
  otherCores?: number;
  /** the memory guard stopped it */
  killedForMemory: boolean;
  stdout: string;
  stderr: string;
}

/** MemAvailable of /proc/meminfo, in MiB. */
export function memAvailableMiB(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"));
  return m ? Number(m[1]) / 1024 : Infinity;
}

/** SIGKILLs a process and all its descendants (children first found through /proc). */
export function killTree(pid: number): void {
  const children = (p: number): number[] => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const all: number[] = [];
  const walk = (p: number) => {
    all.push(p);
    for (const c of children(p)) walk(c);
  };
  walk(pid);
  for (const p of all.reverse()) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

/** Busy and total CPU ticks of the whole machine (/proc/stat; USER_HZ = 100 per second). */
export function machineTicks(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}

/** Waits (at most `maxS` seconds) until the machine is idle: under 0.3 busy cores over 2 s. */
export async function waitQuiet(maxS: number): Promise<void> {
  const until = Date.now() + maxS * 1000;
  for (;;) {
    const a = machineTicks();
    await Bun.sleep(2000);
    const b = machineTicks();
    const cores = (b.busy - a.busy) / 200;
    if (cores < 0.3) return;
    if (Date.now() > until) {
      process.stderr.write(
        `bench: machine still busy (${cores.toFixed(2)} cores used by others) after ${maxS} s: measuring anyway\n`,
      );
      return;
    }
  }
}

/**
 * Runs one command under /usr/bin/time (or polls VmHWM when it is missing): wall ms, peak RSS MiB,
 * user/system CPU and page faults (TimeFields), output, and the CPU other processes used meanwhile
 * (machine busy time minus the child's), in cores.
 */
export async function measure(
  cmd: string[],
  cwd: string,
  env: Record<string, string> = {},
  minFreeMiB = 1024,
): Promise<Measured> {
  const timeFile = join(cwd, "bench", ".cache", `.time-${process.pid}`);
  const haveTime = existsSync("/usr/bin/time");
  const full = haveTime ? ["/usr/bin/time", "-f", TIME_FORMAT, "-o", timeFile, ...cmd] : cmd;
  const ticks0 = machineTicks();
  const t0 = performance.now();
  const child = Bun.spawn(full, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  let hwmKiB = 0;
  let killedForMemory = false;
  const guard = setInterval(() => {
    if (!killedForMemory && memAvailableMiB() < minFreeMiB) {
      killedForMemory = true;
      killTree(child.pid);
    }
  }, 100);
  const poll = haveTime
    ? undefined
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
          if (m) hwmKiB = Math.max(hwmKiB, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 20);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const wallMs = performance.now() - t0;
  const machineBusyS = (machineTicks().busy - ticks0.busy) / 100;
  if (poll) clearInterval(poll);
  clearInterval(guard);
  let otherCores: number | undefined;
  let time: TimeFields | undefined;
  if (haveTime && existsSync(timeFile)) {
    time = parseTimeOutput(readFileSync(timeFile, "utf8"));
    rmSync(timeFile, { force: true });
  }
  if (time) {
    hwmKiB = time.maxRssKiB;
    otherCores = Math.max(0, (machineBusyS - time.userS - time.sysS) / (wallMs / 1000));
  }
  return { code, wallMs, peakMiB: hwmKiB / 1024, time, otherCores, killedForMemory, stdout, stderr };
}
