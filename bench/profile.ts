/**
 * Summary of a server CPU profile (`bun --cpu-prof`, Chrome .cpuprofile JSON) for bench/earn.ts
 * --profile: where the JS thread's samples went during the load window, by layer and by function.
 *
 * Counts samples, not the profile's time deltas: Bun's sampler only samples while JS runs, so a
 * delta that spans an idle gap would be charged to whatever ran before it.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Layers, first match wins; a frame with no url (native) is charged to its nearest JS caller. */
const LAYERS: [RegExp, string][] = [
  [/\/jose\/|@elysiajs\/jwt|\/modules\/auth\//, "JWT verification (jose) + auth guard"],
  [/@sinclair\/typebox/, "TypeBox validation / response schemas"],
  [/\/elysia\/|\/cookie\//, "Elysia (routing, hooks, handler compose)"],
  [/\/drizzle-orm\//, "drizzle-orm (query building, row mapping)"],
  [/\/postgres\/src\//, "postgres.js driver (protocol, parsing)"],
  [/\/prom-client\//, "prom-client (metrics)"],
  [/\/modules\/wallet\//, "wallet actors + group commit (src/modules/wallet)"],
  [/\/src\/plugins\//, "request plugins (request id, JSON body, log line)"],
  [/\/src\//, "other app code (src/)"],
];
const RUNTIME = "Bun runtime / node:net / streams (no library caller)";

/**
 * Reads `path` and returns a Markdown summary of the samples taken between `fromMs` and `toMs`
 * after the profile started (the server's start), or of all of them when no window is given.
 */
export function summariseProfile(path: string, window?: { fromMs: number; toMs: number }, top = 12): string {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const layerOf = new Map<number, string>();
  const layer = (id: number): string => {
    const known = layerOf.get(id);
    if (known) return known;
    let result = RUNTIME;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)!.callFrame.url;
      if (!url || url.startsWith("node:") || url.startsWith("internal:")) continue;
      result = LAYERS.find(([re]) => re.test(url))?.[1] ?? "other libraries";
      break;
    }
    layerOf.set(id, result);
    return result;
  };

  const layers = new Map<string, number>();
  const functions = new Map<string, number>();
  let t = 0;
  let counted = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] / 1000;
    if (window && (t < window.fromMs || t > window.toMs)) continue;
    const id = profile.samples[i];
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(root)" || frame.functionName === "(idle)") continue;
    counted++;
    const l = layer(id);
    layers.set(l, (layers.get(l) ?? 0) + 1);
    const where = frame.url
      ? `${frame.url.replace(/^.*node_modules\//, "").replace(/^.*\/src\//, "src/")}:${frame.lineNumber + 1}`
      : "native";
    const fn = `${frame.functionName || "(anonymous)"} (${where})`;
    functions.set(fn, (functions.get(fn) ?? 0) + 1);
  }
  const pct = (n: number) => `${((100 * n) / Math.max(1, counted)).toFixed(1)} %`;
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  const lines = [`${counted} JS samples (~1 ms each) in the window`, "", "| layer | share |", "|---|---|"];
  for (const [name, n] of sorted(layers)) lines.push(`| ${name} | ${pct(n)} |`);
  lines.push("", "| function (self) | share |", "|---|---|");
  for (const [name, n] of sorted(functions).slice(0, top)) lines.push(`| \`${name}\` | ${pct(n)} |`);
  return lines.join("\n");
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: bun bench/profile.ts FILE.cpuprofile [FROM_MS TO_MS]");
    process.exit(2);
  }
  const [from, to] = process.argv.slice(3).map(Number);
  console.log(
    summariseProfile(path, Number.isFinite(from) && Number.isFinite(to) ? { fromMs: from, toMs: to } : undefined),
  );
}
