/**
 * The pipeline's `index.html`: one self-contained page (inline CSS and SVG, no script, no
 * network) with daily revenue / cost / ROAS per campaign, the D-1 anomalies, the
 * reconciliation summary, ARPDAU D-1 and the data-quality counts. Every string from the
 * input is escaped, and the output depends on nothing but the input.
 */
import { legendHtml, panelSvg, type Series } from "./charts.ts";
import { cmp, dayRange, esc, fmtInt, fmtPct, fmtRatio, fmtUsd, num, numOrNull } from "./format.ts";

export interface ReportInput {
  generatedAt: string; // ISO time
  asOf: string;
  d1: string; // YYYY-MM-DD
  daily: { date: string; campaign: string; revenue_usd: number; ad_cost_usd: number | null; roas: number | null }[];
  roasD1: unknown[];
  anomalies: {
    date: string;
    campaign: string;
    roas_d1: number | null;
    avg7: number | null;
    baseline_days: number;
    anomaly: boolean;
  }[];
  arpdau: { date: string; campaign: string; revenue_usd: number; dau: number; arpdau: number | null }[];
  reconciliation: { tolerance_minutes: number; summary: Record<string, number> };
  quality: {
    files: Record<string, { rows: number; skipped: number; reasons: { bad_time: number; bad_number: number } }>;
  };
}

type Anomaly = ReportInput["anomalies"][number];

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f4f6f9;color:#111827;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif}
main{max-width:1240px;margin:0 auto;padding:28px 24px 40px}
header h1{margin:0;font-size:24px;letter-spacing:-.01em}
header p{margin:4px 0 0;color:#6b7280}
h2{font-size:17px;margin:32px 0 12px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-top:20px}
.kpi,.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px}
.kpi{padding:12px 14px}.kpi b{display:block;font-size:22px;font-variant-numeric:tabular-nums}.kpi span{color:#6b7280;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.kpi.alert b{color:#dc2626}
.card{padding:12px 14px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px}
.panel.anomaly{border-color:#fca5a5;box-shadow:0 0 0 1px #fca5a5}
.ph{display:flex;justify-content:space-between;align-items:baseline;gap:8px;margin-bottom:4px}
.ph h3{margin:0;font-size:14px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ph small{color:#6b7280;white-space:nowrap;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:999px;padding:1px 8px;font-size:11px;font-weight:600;margin-left:6px;background:#e5e7eb;color:#374151}
.badge.bad{background:#dc2626;color:#fff}.badge.ok{background:#dcfce7;color:#166534}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:0 0 12px;color:#374151;font-size:12.5px}
.legend span{display:inline-flex;align-items:center;gap:6px}
svg.chart{display:block}
svg .tick{font-size:10px;fill:#6b7280}svg .tick.d1{fill:#92400e;font-weight:600}
svg .sub{font-size:10px;fill:#374151;font-weight:600}svg .flag{font-size:10px;fill:#dc2626;font-weight:700}
.tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:14px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid #eef0f3;text-align:right;white-space:nowrap}
th{font-size:12px;color:#6b7280;font-weight:600;background:#fafbfc}
th:first-child,td:first-child{text-align:left;white-space:normal;word-break:break-word}
tr.bad td{background:#fef2f2}tr.bad td:first-child{box-shadow:inset 3px 0 #dc2626}
td.neg{color:#dc2626;font-weight:600}
.card h2{margin:2px 0 10px;font-size:15px}
.note{color:#6b7280;font-size:12px;margin:8px 0 0}
.empty{color:#6b7280;padding:18px;text-align:center}
footer{margin-top:28px;color:#9ca3af;font-size:12px}
`;

function table(head: string[], rows: string[][], rowClass: (i: number) => string = () => ""): string {
  if (rows.length === 0) return `<p class="empty">No rows.</p>`;
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r, i) => `<tr${rowClass(i) ? ` class="${rowClass(i)}"` : ""}>${r.join("")}</tr>`).join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const td = (text: string, cls = ""): string => `<td${cls ? ` class="${cls}"` : ""}>${esc(text)}</td>`;

/** Build one continuous series per campaign plus the all-campaigns total. */
function buildSeries(input: ReportInput): { dates: string[]; total: Series; campaigns: Series[] } {
  const daily = Array.isArray(input.daily) ? input.daily : [];
  const dates = dayRange([...daily.map((r) => String(r.date)), String(input.d1)]);
  const index = new Map(dates.map((d, i) => [d, i]));
  const blank = (name: string): Series => ({
    name,
    dates,
    revenue: dates.map(() => 0),
    cost: dates.map(() => null),
    roas: dates.map(() => null),
  });
  const byName = new Map<string, Series>();
  const total = blank("All campaigns");
  for (const r of daily) {
    const i = index.get(String(r.date));
    if (i === undefined) continue;
    const name = String(r.campaign);
    let s = byName.get(name);
    if (!s) {
      s = blank(name);
      byName.set(name, s);
    }
    s.revenue[i] = num(s.revenue[i]) + num(r.revenue_usd);
    const cost = numOrNull(r.ad_cost_usd);
    if (cost !== null) s.cost[i] = num(s.cost[i]) + cost;
    s.roas[i] = numOrNull(r.roas);
    total.revenue[i] = num(total.revenue[i]) + num(r.revenue_usd);
    if (cost !== null) total.cost[i] = num(total.cost[i]) + cost;
  }
  total.roas = total.revenue.map((v, i) => (total.cost[i] ? v / total.cost[i]! : null));
  return { dates, total, campaigns: [...byName.values()] };
}

function panelsHtml(input: ReportInput, anomalies: Map<string, Anomaly>): string {
  const { dates, total, campaigns } = buildSeries(input);
  if (dates.length === 0 || campaigns.length === 0)
    return `<div class="card"><p class="empty">No daily revenue or cost data.</p></div>`;
  const sum = (s: Series): number => s.revenue.reduce((a, b) => a + b, 0);
  const totals = new Map(campaigns.map((s) => [s.name, sum(s)]));
  campaigns.sort((a, b) => {
    const fa = anomalies.get(a.name)?.anomaly ? 0 : 1,
      fb = anomalies.get(b.name)?.anomaly ? 0 : 1;
    return fa - fb || totals.get(b.name)! - totals.get(a.name)! || cmp(a.name, b.name);
  });
  const overview =
    `<div class="card"><div class="ph"><h3>All campaigns</h3><small>${esc(dates[0]!)} – ${esc(dates[dates.length - 1]!)} · ${fmtInt(dates.length)} days · revenue ${esc(fmtUsd(sum(total)))}</small></div>` +
    panelSvg(
      total,
      { d1: input.d1, avg7: null, anomaly: false },
      { width: 1180, big: true, label: "All campaigns: daily revenue, cost and ROAS" },
    ) +
    `</div>`;
  const panels = campaigns.map((s) => {
    const a = anomalies.get(s.name);
    const badge = !a
      ? `<span class="badge">no D-1 data</span>`
      : a.anomaly
        ? `<span class="badge bad">ANOMALY</span>`
        : `<span class="badge ok">OK</span>`;
    const stats = a ? `D-1 ROAS ${fmtRatio(a.roas_d1)} · avg7 ${fmtRatio(a.avg7)}` : "";
    return (
      `<div class="card panel${a?.anomaly ? " anomaly" : ""}"><div class="ph"><h3 title="${esc(s.name)}">${esc(s.name)}</h3><small>${esc(stats)}${badge}</small></div>` +
      panelSvg(
        s,
        { d1: input.d1, avg7: a ? numOrNull(a.avg7) : null, anomaly: Boolean(a?.anomaly) },
        { label: `${s.name}: daily revenue, cost and ROAS` },
      ) +
      `</div>`
    );
  });
  return `${legendHtml()}${overview}<h2>Per campaign</h2><div class="grid">${panels.join("\n")}</div>`;
}

function d1Table(input: ReportInput, anomalies: Map<string, Anomaly>): string {
  const money = new Map<string, { revenue: number; cost: number | null }>();
  for (const r of input.daily ?? [])
    if (r.date === input.d1)
      money.set(String(r.campaign), { revenue: num(r.revenue_usd), cost: numOrNull(r.ad_cost_usd) });
  for (const r of input.roasD1 ?? []) {
    // fallback when daily lacks a D-1 row
    const o = r as Record<string, unknown> | null;
    if (o && typeof o.campaign === "string" && !money.has(o.campaign))
      money.set(o.campaign, { revenue: num(o.revenue_usd), cost: numOrNull(o.ad_cost_usd) });
  }
  const names = [...new Set([...anomalies.keys(), ...money.keys()])].sort(cmp);
  const rows = names.map((c) => {
    const a = anomalies.get(c),
      m = money.get(c);
    const vs = a && a.roas_d1 !== null && a.avg7 ? `${((100 * (a.roas_d1 - a.avg7)) / a.avg7).toFixed(1)}%` : "—";
    return [
      td(c),
      td(fmtUsd(m?.revenue)),
      td(fmtUsd(m?.cost ?? null)),
      td(fmtRatio(a?.roas_d1 ?? null, 3)),
      td(fmtRatio(a?.avg7 ?? null, 3)),
      td(fmtInt(a?.baseline_days ?? null)),
      td(vs, a?.anomaly ? "neg" : ""),
      td(a?.anomaly ? "ANOMALY" : a ? "ok" : "—", a?.anomaly ? "neg" : ""),
    ];
  });
  return table(
    ["Campaign", "Revenue", "Ad cost", "ROAS D-1", "avg7", "Baseline days", "vs avg7", "Status"],
    rows,
    (i) => (anomalies.get(names[i]!)?.anomaly ? "bad" : ""),
  );
}

function arpdauTable(input: ReportInput): string {
  const rows = [...(input.arpdau ?? [])]
    .sort((a, b) => cmp(String(a.campaign), String(b.campaign)))
    .map((r) => [
      td(String(r.campaign)),
      td(fmtUsd(r.revenue_usd)),
      td(fmtInt(r.dau)),
      td(r.arpdau === null ? "— (no DAU)" : `$${fmtRatio(r.arpdau, 4)}`),
    ]);
  return table(["Campaign", "Revenue", "DAU", "ARPDAU"], rows);
}

const RECON: [string, string, string][] = [
  ["Matched", "matched", "matched_revenue_usd"],
  ["AppsFlyer only", "af_only", "af_only_revenue_usd"],
  ["Confirmed only", "confirmed_only", "confirmed_only_revenue_usd"],
];

function reconTable(input: ReportInput): string {
  const s = input.reconciliation?.summary ?? {};
  const known = new Set(["revenue_mismatches", ...RECON.flatMap(([, a, b]) => [a, b])]);
  const all = RECON.reduce((acc, [, k]) => acc + num(s[k]), 0);
  const rows = RECON.map(([label, k, rev]) => [
    td(label),
    td(fmtInt(numOrNull(s[k]))),
    td(fmtPct(num(s[k]), all)),
    td(fmtUsd(numOrNull(s[rev]))),
  ]);
  rows.push([
    td("Revenue mismatches (> $0.01)"),
    td(fmtInt(numOrNull(s.revenue_mismatches))),
    td(fmtPct(num(s.revenue_mismatches), num(s.matched))),
    td(""),
  ]);
  for (const k of Object.keys(s)
    .filter((k) => !known.has(k))
    .sort(cmp))
    rows.push([td(k), td(fmtPlain(s[k])), td(""), td("")]);
  return (
    table(["Reconciliation", "Count", "Share", "Revenue"], rows) +
    `<p class="note">AppsFlyer purchases matched one-to-one with store-confirmed purchases of the same appsflyer_id within ±${esc(fmtInt(numOrNull(input.reconciliation?.tolerance_minutes)))} min.</p>`
  );
}

const fmtPlain = (v: unknown): string => (typeof v === "number" && Number.isFinite(v) ? String(v) : "—");

function qualityTable(input: ReportInput): string {
  const files = input.quality?.files ?? {};
  const rows = Object.keys(files).map((f) => {
    const q = files[f]!;
    return [
      td(f),
      td(fmtInt(q.rows)),
      td(fmtInt(q.skipped), q.skipped ? "neg" : ""),
      td(fmtInt(q.reasons?.bad_time)),
      td(fmtInt(q.reasons?.bad_number)),
      td(fmtPct(num(q.rows) - num(q.skipped), num(q.rows))),
    ];
  });
  return table(["File", "Rows read", "Skipped", "Bad time", "Bad number", "Usable"], rows);
}

function kpis(input: ReportInput, anomalies: Map<string, Anomaly>): string {
  let rev = 0,
    cost = 0,
    hasCost = false;
  for (const r of input.daily ?? []) {
    if (r.date !== input.d1) continue;
    rev += num(r.revenue_usd);
    if (numOrNull(r.ad_cost_usd) !== null) {
      cost += r.ad_cost_usd!;
      hasCost = true;
    }
  }
  const s = input.reconciliation?.summary ?? {};
  const flagged = [...anomalies.values()].filter((a) => a.anomaly).length;
  const skipped = Object.values(input.quality?.files ?? {}).reduce((a, q) => a + num(q.skipped), 0);
  const k = (label: string, value: string, alert = false): string =>
    `<div class="kpi${alert ? " alert" : ""}"><span>${esc(label)}</span><b>${esc(value)}</b></div>`;
  return `<div class="kpis">${[
    k("Revenue D-1", fmtUsd(rev)),
    k("Ad cost D-1", hasCost ? fmtUsd(cost) : "—"),
    k("Blended ROAS D-1", hasCost && cost > 0 ? fmtRatio(rev / cost) : "—"),
    k("ROAS anomalies", `${flagged} of ${anomalies.size}`, flagged > 0),
    k("Match rate (AF side)", fmtPct(num(s.matched), num(s.matched) + num(s.af_only))),
    k("Rows skipped", fmtInt(skipped), skipped > 0),
  ].join("")}</div>`;
}

/** Renders the self-contained report page. */
export function renderReport(input: ReportInput): string {
  const anomalies = new Map<string, Anomaly>();
  for (const a of input.anomalies ?? []) anomalies.set(String(a.campaign), a);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Revenue report · D-1 ${esc(input.d1)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>Revenue report · D-1 ${esc(input.d1)}</h1>
<p>As of ${esc(input.asOf)} (D-1 = as-of minus one day) · generated ${esc(input.generatedAt)} · reconciliation tolerance ${esc(fmtInt(numOrNull(input.reconciliation?.tolerance_minutes)))} min</p>
</header>
${kpis(input, anomalies)}
<h2>Daily revenue, cost and ROAS</h2>
${panelsHtml(input, anomalies)}
<h2>D-1 ROAS and anomalies</h2>
<div class="card">${d1Table(input, anomalies)}<p class="note">Anomaly: ROAS on D-1 below half of avg7, the mean daily ROAS over D-8..D-2 (days with cost and no revenue count as 0).</p></div>
<div class="tables">
<div class="card"><h2>ARPDAU D-1</h2>${arpdauTable(input)}</div>
<div class="card"><h2>Reconciliation</h2>${reconTable(input)}</div>
</div>
<div class="card" style="margin-top:14px"><h2>Data quality</h2>${qualityTable(input)}<p class="note">Rows with an unparseable time or number are skipped and counted under their first bad column.</p></div>
<footer>Self-contained report: inline CSS and SVG, no scripts, no external resources.</footer>
</main>
</body>
</html>
`;
}
