/**
 * Render a report HTML file in headless Chromium (Debian `chromium`) and save a PNG.
 *
 *   bun scripts/screenshot-report.ts [report.html] [--out docs/report.png] [--width 1280] [--height 2000]
 *
 * Without an HTML path it runs the pipeline on data/ into a temporary folder and shoots
 * that report. Network is off for the page: it must render from the file alone.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** Debian chromium; CHROMIUM_BIN overrides (e.g. to check the skip path). */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";

export interface ShotResult {
  ok: boolean;
  reason?: string;
  width?: number;
  height?: number;
  bytes?: number;
}

/** PNG width/height from the IHDR chunk, or null when the bytes are not a PNG. */
export function pngSize(buf: Uint8Array): { width: number; height: number } | null {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (buf.length < 24 || sig.some((b, i) => buf[i] !== b)) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

export async function screenshot(
  html: string,
  outPng: string,
  opts: { width?: number; height?: number; timeoutMs?: number } = {},
): Promise<ShotResult> {
  if (!existsSync(CHROMIUM)) return { ok: false, reason: `${CHROMIUM} not found (apt-get install -y chromium)` };
  const width = opts.width ?? 1280,
    height = opts.height ?? 2000;
  const profile = mkdtempSync(join(tmpdir(), "report-shot-"));
  try {
    const proc = Bun.spawn(
      [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--disable-dev-shm-usage",
        "--force-device-scale-factor=1",
        `--user-data-dir=${profile}`,
        `--screenshot=${resolve(outPng)}`,
        `--window-size=${width},${height}`,
        pathToFileURL(resolve(html)).href,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const timer = setTimeout(() => proc.kill(), opts.timeoutMs ?? 60000);
    const code = await proc.exited;
    clearTimeout(timer);
    if (code !== 0 || !existsSync(outPng)) {
      const err = (await new Response(proc.stderr).text()).trim().split("\n").slice(-3).join(" | ");
      return { ok: false, reason: `chromium exited ${code}: ${err}` };
    }
    const png = readFileSync(outPng);
    const size = pngSize(png);
    if (!size) return { ok: false, reason: "chromium wrote no PNG" };
    return { ok: true, ...size, bytes: png.length };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2).filter((a) => a !== "--");
  const flag = (name: string, def: string): string => {
    const i = args.indexOf(name);
    if (i < 0) return def;
    const v = args[i + 1] ?? def;
    args.splice(i, 2);
    return v;
  };
  const out = flag("--out", "docs/report.png");
  const width = Number(flag("--width", "1280")),
    height = Number(flag("--height", "2000"));
  let html = args[0];
  let tmp: string | undefined;
  if (!html) {
    tmp = mkdtempSync(join(tmpdir(), "report-"));
    const run = Bun.spawnSync([process.execPath, "src/pipeline/cli.ts", "--out-dir", tmp], {
      stderr: "inherit",
      stdout: "inherit",
    });
    if (run.exitCode !== 0) process.exit(run.exitCode ?? 1);
    html = join(tmp, "index.html");
  }
  const r = await screenshot(html, out, { width, height });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (!r.ok) {
    console.error(`screenshot: ${r.reason}`);
    process.exit(1);
  }
  console.log(`screenshot: ${out} ${r.width}x${r.height}, ${r.bytes} bytes`);
}
