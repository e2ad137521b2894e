/**
 * Formatting helpers for the HTML report. Everything is locale-independent and
 * deterministic: the same input always gives the same bytes.
 */

/** Escape text for HTML element content and quoted attribute values (also inside SVG). */
export function esc(value: unknown): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const finite = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n);

function group(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 1234.5 -> "1,234.50"; non-finite or null -> "—". */
function fmtNumber(n: number | null | undefined, decimals = 2): string {
  if (!finite(n)) return "—";
  const s = Math.abs(n).toFixed(decimals);
  const [i, f] = s.split(".");
  const sign = n < 0 && Number(s) !== 0 ? "-" : "";
  return `${sign}${group(i!)}${f ? `.${f}` : ""}`;
}

export const fmtInt = (n: number | null | undefined): string => fmtNumber(n, 0);

export function fmtUsd(n: number | null | undefined): string {
  if (!finite(n)) return "—";
  return n < 0 ? `-$${fmtNumber(-n)}` : `$${fmtNumber(n)}`;
}

/** Axis labels: "$950", "$1.2k", "$3.4M". */
export function fmtUsdShort(n: number): string {
  const a = Math.abs(n);
  const sign = n < 0 ? "-" : "";
  const trim = (x: number, d: number): string =>
    x
      .toFixed(d)
      .replace(/\.0+$/, "")
      .replace(/(\.\d*?)0+$/, "$1");
  if (a >= 1e6) return `${sign}$${trim(a / 1e6, 1)}M`;
  if (a >= 1e3) return `${sign}$${trim(a / 1e3, a >= 1e4 ? 0 : 1)}k`;
  return `${sign}$${trim(a, a < 10 && a !== Math.round(a) ? 1 : 0)}`;
}

export function fmtRatio(n: number | null | undefined, decimals = 2): string {
  return finite(n) ? n.toFixed(decimals) : "—";
}

export function fmtPct(part: number, whole: number): string {
  if (!finite(part) || !finite(whole) || whole === 0) return "—";
  return `${((100 * part) / whole).toFixed(1)}%`;
}

/** Round-number axis ticks from 0 up to at least max. */
export function niceTicks(max: number, count = 3): number[] {
  if (!finite(max) || max <= 0) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "YYYY-MM-DD" -> days since epoch, or null when not a date. */
function dayNumber(date: string): number | null {
  const m = DATE_RE.exec(date);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isFinite(ms) ? Math.round(ms / 86400000) : null;
}

function dayString(day: number): string {
  return new Date(day * 86400000).toISOString().slice(0, 10);
}

/** Every date from the smallest to the largest valid date given (capped at maxDays). */
export function dayRange(dates: Iterable<string>, maxDays = 400): string[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const d of dates) {
    const n = dayNumber(d);
    if (n === null) continue;
    if (n < lo) lo = n;
    if (n > hi) hi = n;
  }
  if (!Number.isFinite(lo)) return [];
  lo = Math.max(lo, hi - maxDays + 1);
  const out: string[] = [];
  for (let d = lo; d <= hi; d++) out.push(dayString(d));
  return out;
}

/** Plain string order (no locale), for deterministic sorting. */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const num = (n: unknown): number => (finite(n) ? n : 0);
export const numOrNull = (n: unknown): number | null => (finite(n) ? n : null);
