/** Small, allocation-light helpers for the data generator: PRNG, hashing, formatting. */
import { csvField } from "./csv-writer.ts";

/** mulberry32: tiny, fast, good-enough 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over a string, so any --seed text maps to a 32-bit seed. */
export function seedFrom(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Stateless integer hash (murmur3 finalizer) for per-user attributes. */
export function mix32(x: number, salt: number): number {
  let h = (x ^ salt) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const P2: string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const P3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));

/** Caches "YYYY-MM-DD" per epoch day, so formatting a time needs no Date object. */
const dayCache = new Map<number, string>();
export function dayString(epochDay: number): string {
  let s = dayCache.get(epochDay);
  if (s === undefined) {
    s = new Date(epochDay * 86400000).toISOString().slice(0, 10);
    dayCache.set(epochDay, s);
  }
  return s;
}

export function parseDay(s: string): number {
  const ms = Date.parse(`${s}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(ms)) throw new Error(`bad date: ${s}`);
  return Math.floor(ms / 86400000);
}

/**
 * Time styles, as seen in real exports:
 * 0 "YYYY-MM-DD HH:MM:SS" (AppsFlyer raw data), 1 "...THH:MM:SSZ", 2 "...THH:MM:SS.mmmZ",
 * 3 "...THH:MM:SS+02:00" (same instant, local offset), 4 "...THH:MM:SS-05:00".
 */
export function fmtTime(sec: number, style: number, ms = 0): string {
  let offset = 0;
  let suffix = "Z";
  if (style === 3) {
    offset = 7200;
    suffix = "+02:00";
  } else if (style === 4) {
    offset = -18000;
    suffix = "-05:00";
  }
  const local = sec + offset;
  const day = Math.floor(local / 86400);
  const rem = local - day * 86400;
  const hh = (rem / 3600) | 0;
  const mm = ((rem % 3600) / 60) | 0;
  const ss = rem % 60;
  const d = dayString(day);
  if (style === 0) return `${d} ${P2[hh]}:${P2[mm]}:${P2[ss]}`;
  if (style === 2) return `${d}T${P2[hh]}:${P2[mm]}:${P2[ss]}.${P3[ms]}Z`;
  return `${d}T${P2[hh]}:${P2[mm]}:${P2[ss]}${suffix}`;
}

/**
 * Money from integer cents, CSV-ready (quoted when it holds a comma).
 * style 0 "1234.56", 1 "1234,56", 2 "1.234,56", 3 "1,234.56", 4 " 4.99 " (padded).
 */
export function fmtMoney(cents: number, style: number): string {
  const neg = cents < 0 ? "-" : "";
  const c = Math.abs(cents);
  const whole = Math.floor(c / 100);
  const frac = P2[c % 100];
  switch (style) {
    case 1:
      return `"${neg}${whole},${frac}"`;
    case 2:
      return `"${neg}${groupThousands(whole, ".")},${frac}"`;
    case 3:
      return `"${neg}${groupThousands(whole, ",")}.${frac}"`;
    case 4:
      return ` ${neg}${whole}.${frac} `;
    default:
      return `${neg}${whole}.${frac}`;
  }
}

function groupThousands(n: number, sep: string): string {
  const s = String(n);
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && (s.length - i) % 3 === 0) out += sep;
    out += s[i];
  }
  return out;
}

/** Precomputed, CSV-quoted spellings of a campaign: canonical, UPPER, lower, padded. */
export function campaignVariants(name: string): string[] {
  return [name, name.toUpperCase(), name.toLowerCase(), `  ${name} `].map(csvField);
}

/** Pick an index from cumulative weights (last entry = total). */
export function pickCum(cum: number[], r: number): number {
  const x = r * cum[cum.length - 1]!;
  for (let i = 0; i < cum.length; i++) if (x < cum[i]!) return i;
  return cum.length - 1;
}

export function cumulative(weights: number[]): number[] {
  let s = 0;
  return weights.map((w) => (s += w));
}
