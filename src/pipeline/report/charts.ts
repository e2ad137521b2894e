/**
 * Inline SVG charts for the report, drawn by hand (no library, no script): one panel per
 * campaign with daily revenue bars and a cost line on top, ROAS below, the seven-day
 * baseline window shaded, D-1 highlighted and an anomaly ringed in red.
 */
import { esc, fmtRatio, fmtUsd, fmtUsdShort, niceTicks } from "./format.ts";

export interface Series {
  name: string;
  dates: string[]; // continuous day range, shared by every panel
  revenue: number[];
  cost: (number | null)[];
  roas: (number | null)[];
}

export interface Marks {
  d1: string;
  avg7: number | null;
  anomaly: boolean;
}

const COLORS = {
  revenue: "#3b82f6",
  cost: "#f59e0b",
  roas: "#0f766e",
  anomaly: "#dc2626",
  grid: "#e5e7eb",
  axis: "#6b7280",
  d1: "#fef3c7",
  base: "#eef2ff",
};

const r1 = (n: number): string => (Math.round(n * 10) / 10).toFixed(1).replace(/\.0$/, "");

interface Frame {
  x: (i: number) => number;
  bw: number;
  left: number;
  right: number;
}

function frame(n: number, width: number, left: number, right: number): Frame {
  const bw = (width - left - right) / Math.max(1, n);
  return { x: (i) => left + (i + 0.5) * bw, bw, left, right: width - right };
}

function yAxis(f: Frame, top: number, h: number, ticks: number[], label: (v: number) => string): string {
  const max = ticks[ticks.length - 1]!;
  return ticks
    .map((t) => {
      const y = top + h - (t / max) * h;
      return (
        `<line x1="${r1(f.left)}" x2="${r1(f.right)}" y1="${r1(y)}" y2="${r1(y)}" stroke="${COLORS.grid}" stroke-width="1"/>` +
        `<text x="${r1(f.left - 6)}" y="${r1(y + 3.5)}" text-anchor="end" class="tick">${esc(label(t))}</text>`
      );
    })
    .join("");
}

/** Polyline paths that break at nulls. */
function linePath(values: (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${r1(x(i))} ${r1(y(v))}`;
    pen = true;
  });
  return d;
}

/** Date labels: about six evenly spaced, always the first day and D-1. */
function xLabels(dates: string[], f: Frame, y: number, d1: string): string {
  const n = dates.length;
  const step = Math.max(1, Math.ceil(n / 6));
  const d1i = dates.indexOf(d1);
  const out: string[] = [];
  for (let i = 0; i < n; i += step) {
    if (d1i >= 0 && Math.abs(i - d1i) < step / 2 && i !== d1i) continue; // D-1 label wins
    out.push(`<text x="${r1(f.x(i))}" y="${y}" text-anchor="middle" class="tick">${esc(dates[i]!.slice(5))}</text>`);
  }
  if (d1i >= 0 && d1i % step !== 0)
    out.push(`<text x="${r1(f.x(d1i))}" y="${y}" text-anchor="middle" class="tick d1">${esc(d1.slice(5))}</text>`);
  return out.join("");
}

/** One campaign panel (or the all-campaigns overview when `big`). */
export function panelSvg(s: Series, m: Marks, opts: { width?: number; big?: boolean; label: string }): string {
  const W = opts.width ?? 560;
  const topH = opts.big ? 170 : 118;
  const roasH = opts.big ? 80 : 62;
  const top = 10;
  const roasTop = top + topH + 26;
  const H = roasTop + roasH + 22;
  const f = frame(s.dates.length, W, 50, 10);
  const n = s.dates.length;
  const d1i = s.dates.indexOf(m.d1);

  // Money chart: revenue bars, cost line.
  let moneyMax = 0;
  s.revenue.forEach((v) => {
    if (v > moneyMax) moneyMax = v;
  });
  s.cost.forEach((v) => {
    if (v !== null && v > moneyMax) moneyMax = v;
  });
  const mTicks = niceTicks(moneyMax, 3);
  const mMax = mTicks[mTicks.length - 1]!;
  const ym = (v: number): number => top + topH - (Math.max(0, v) / mMax) * topH;

  // ROAS chart: clip outliers so one tiny-cost day does not flatten the rest.
  const finiteRoas = s.roas.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const median = finiteRoas.length ? finiteRoas[Math.floor(finiteRoas.length / 2)]! : 0;
  const rawMax = Math.max(finiteRoas[finiteRoas.length - 1] ?? 0, m.avg7 ?? 0, 1);
  const rTicks = niceTicks(Math.min(rawMax, Math.max(2, median * 3, (m.avg7 ?? 0) * 1.5)), 2);
  const rMax = rTicks[rTicks.length - 1]!;
  const yr = (v: number): number => roasTop + roasH - (Math.min(Math.max(0, v), rMax) / rMax) * roasH;

  const parts: string[] = [];
  parts.push(`<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(opts.label)}" class="chart">`);
  // Baseline window D-8..D-2 and the D-1 column.
  if (d1i >= 0) {
    const b0 = Math.max(0, d1i - 7);
    if (d1i - 1 >= b0) {
      const bx = f.left + b0 * f.bw;
      const bwid = (d1i - b0) * f.bw;
      parts.push(`<rect x="${r1(bx)}" y="${roasTop}" width="${r1(bwid)}" height="${roasH}" fill="${COLORS.base}"/>`);
    }
    const col = `x="${r1(f.left + d1i * f.bw)}" width="${r1(f.bw)}"`;
    const fill = m.anomaly ? "#fee2e2" : COLORS.d1;
    parts.push(
      `<rect ${col} y="${top}" height="${topH}" fill="${fill}"/><rect ${col} y="${roasTop}" height="${roasH}" fill="${fill}"/>`,
    );
  }
  parts.push(yAxis(f, top, topH, mTicks, fmtUsdShort));
  if (finiteRoas.length > 0) parts.push(yAxis(f, roasTop, roasH, rTicks, (v) => fmtRatio(v, v % 1 === 0 ? 0 : 1)));
  parts.push(`<text x="${f.left}" y="${roasTop - 6}" class="sub">ROAS</text>`);

  // Revenue bars with a hover title per day.
  const bar = Math.max(1, f.bw * 0.72);
  s.revenue.forEach((v, i) => {
    if (v <= 0) return;
    const y = ym(v);
    parts.push(
      `<rect x="${r1(f.x(i) - bar / 2)}" y="${r1(y)}" width="${r1(bar)}" height="${r1(top + topH - y)}" fill="${COLORS.revenue}" opacity="0.8"/>`,
    );
  });
  const costPath = linePath(s.cost, f.x, ym);
  if (costPath)
    parts.push(`<path d="${costPath}" fill="none" stroke="${COLORS.cost}" stroke-width="2" stroke-linejoin="round"/>`);
  s.cost.forEach((v, i) => {
    const isolated = v !== null && (i === 0 || s.cost[i - 1] === null) && (i === n - 1 || s.cost[i + 1] === null);
    if (isolated) parts.push(`<circle cx="${r1(f.x(i))}" cy="${r1(ym(v!))}" r="2" fill="${COLORS.cost}"/>`);
  });

  // ROAS line, 1.0 reference, avg7 over the baseline window, D-1 point.
  if (rMax >= 1 && finiteRoas.length > 0)
    parts.push(
      `<line x1="${f.left}" x2="${f.right}" y1="${r1(yr(1))}" y2="${r1(yr(1))}" stroke="${COLORS.axis}" stroke-dasharray="2 3"/>`,
    );
  if (finiteRoas.length === 0)
    parts.push(
      `<text x="${r1((f.left + f.right) / 2)}" y="${r1(roasTop + roasH / 2 + 3)}" text-anchor="middle" class="tick">no ad cost: ROAS n/a</text>`,
    );
  const roasPath = linePath(s.roas, f.x, yr);
  if (roasPath)
    parts.push(
      `<path d="${roasPath}" fill="none" stroke="${COLORS.roas}" stroke-width="1.8" stroke-linejoin="round"/>`,
    );
  s.roas.forEach((v, i) => {
    if (v === null || i === d1i) return;
    const clipped = v > rMax;
    parts.push(
      `<circle cx="${r1(f.x(i))}" cy="${r1(yr(v))}" r="${clipped ? 2.6 : 1.6}" fill="${clipped ? "#fff" : COLORS.roas}" stroke="${COLORS.roas}"/>`,
    );
  });
  if (d1i >= 0 && m.avg7 !== null && d1i > 0) {
    const x0 = f.left + Math.max(0, d1i - 7) * f.bw;
    const x1 = f.left + d1i * f.bw;
    parts.push(
      `<line x1="${r1(x0)}" x2="${r1(x1)}" y1="${r1(yr(m.avg7))}" y2="${r1(yr(m.avg7))}" stroke="#4338ca" stroke-width="1.5" stroke-dasharray="5 3"/>`,
    );
    const th = yr(m.avg7 * 0.5);
    parts.push(
      `<line x1="${r1(x1 - 2)}" x2="${r1(x1 + f.bw + 2)}" y1="${r1(th)}" y2="${r1(th)}" stroke="${COLORS.anomaly}" stroke-width="1.2" stroke-dasharray="2 2"/>`,
    );
  }
  if (d1i >= 0 && s.roas[d1i] !== null && s.roas[d1i] !== undefined) {
    const cx = f.x(d1i),
      cy = yr(s.roas[d1i]!);
    parts.push(
      m.anomaly
        ? `<circle cx="${r1(cx)}" cy="${r1(cy)}" r="7" fill="none" stroke="${COLORS.anomaly}" stroke-width="2"/><circle cx="${r1(cx)}" cy="${r1(cy)}" r="3.2" fill="${COLORS.anomaly}"/>`
        : `<circle cx="${r1(cx)}" cy="${r1(cy)}" r="3.2" fill="${COLORS.roas}" stroke="#fff" stroke-width="1"/>`,
    );
  }
  if (m.anomaly && d1i >= 0) {
    const tx = Math.min(f.right - 2, f.x(d1i) + 10);
    parts.push(`<text x="${r1(tx)}" y="${roasTop - 6}" text-anchor="end" class="flag">▼ anomaly</text>`);
  }

  // Invisible per-day hover targets with exact values.
  s.dates.forEach((d, i) => {
    const title = `${s.name} ${d}: revenue ${fmtUsd(s.revenue[i])}, cost ${fmtUsd(s.cost[i])}, ROAS ${fmtRatio(s.roas[i], 3)}`;
    parts.push(
      `<rect x="${r1(f.left + i * f.bw)}" y="${top}" width="${r1(f.bw)}" height="${roasTop + roasH - top}" fill="transparent"><title>${esc(title)}</title></rect>`,
    );
  });
  parts.push(`<line x1="${f.left}" x2="${f.right}" y1="${top + topH}" y2="${top + topH}" stroke="${COLORS.axis}"/>`);
  parts.push(
    `<line x1="${f.left}" x2="${f.right}" y1="${roasTop + roasH}" y2="${roasTop + roasH}" stroke="${COLORS.axis}"/>`,
  );
  parts.push(xLabels(s.dates, f, roasTop + roasH + 15, m.d1));
  parts.push("</svg>");
  return parts.join("");
}

/** The colour key shared by all panels (HTML + tiny SVG swatches). */
export function legendHtml(): string {
  const sw = (svg: string): string => `<svg viewBox="0 0 22 12" width="22" height="12" aria-hidden="true">${svg}</svg>`;
  const items: [string, string][] = [
    [sw(`<rect x="5" y="1" width="12" height="10" fill="${COLORS.revenue}" opacity="0.8"/>`), "Revenue (USD)"],
    [sw(`<line x1="1" x2="21" y1="6" y2="6" stroke="${COLORS.cost}" stroke-width="2"/>`), "Ad cost (USD)"],
    [sw(`<line x1="1" x2="21" y1="6" y2="6" stroke="${COLORS.roas}" stroke-width="2"/>`), "ROAS (revenue / cost)"],
    [
      sw(
        `<rect x="1" y="1" width="20" height="10" fill="${COLORS.base}"/><line x1="1" x2="21" y1="6" y2="6" stroke="#4338ca" stroke-width="1.5" stroke-dasharray="5 3"/>`,
      ),
      "Baseline D-8..D-2 and avg7",
    ],
    [
      sw(`<line x1="4" x2="18" y1="6" y2="6" stroke="${COLORS.anomaly}" stroke-width="1.5" stroke-dasharray="2 2"/>`),
      "Anomaly threshold ½ × avg7",
    ],
    [sw(`<rect x="6" y="0" width="10" height="12" fill="${COLORS.d1}"/>`), "D-1"],
    [
      sw(
        `<circle cx="11" cy="6" r="5" fill="none" stroke="${COLORS.anomaly}" stroke-width="1.5"/><circle cx="11" cy="6" r="2.4" fill="${COLORS.anomaly}"/>`,
      ),
      "D-1 anomaly",
    ],
  ];
  return `<div class="legend">${items.map(([s, t]) => `<span>${s}${esc(t)}</span>`).join("")}</div>`;
}
