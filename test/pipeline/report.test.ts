import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHROMIUM, screenshot } from "../../scripts/screenshot-report.ts";
import { dayRange, esc, fmtUsd, fmtUsdShort, niceTicks } from "../../src/pipeline/report/format.ts";
import { type ReportInput, renderReport } from "../../src/pipeline/report/html.ts";

const EVIL = `<script>alert("x")</script>&"' onload="alert(1)`;

/** 12 days, three campaigns; BRAVO is an anomaly on D-1, EVIL has no cost (null ROAS). */
function fixture(): ReportInput {
  const daily: ReportInput["daily"] = [];
  for (let d = 1; d <= 12; d++) {
    const date = `2025-03-${String(d).padStart(2, "0")}`;
    daily.push({ date, campaign: "ALPHA", revenue_usd: 100 + d, ad_cost_usd: 80, roas: (100 + d) / 80 });
    const bravoRev = d === 11 ? 10 : 120;
    if (d !== 4) daily.push({ date, campaign: "BRAVO", revenue_usd: bravoRev, ad_cost_usd: 100, roas: bravoRev / 100 });
    daily.push({ date, campaign: EVIL, revenue_usd: 5, ad_cost_usd: null, roas: null });
  }
  daily.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.campaign < b.campaign ? -1 : 1));
  return {
    generatedAt: "2025-03-12T08:00:00.000Z",
    asOf: "2025-03-12",
    d1: "2025-03-11",
    daily,
    roasD1: [],
    anomalies: [
      { date: "2025-03-11", campaign: "ALPHA", roas_d1: 1.3875, avg7: 1.3375, baseline_days: 7, anomaly: false },
      { date: "2025-03-11", campaign: "BRAVO", roas_d1: 0.1, avg7: 1.2, baseline_days: 6, anomaly: true },
      { date: "2025-03-11", campaign: EVIL, roas_d1: null, avg7: null, baseline_days: 0, anomaly: false },
    ],
    arpdau: [
      { date: "2025-03-11", campaign: "ALPHA", revenue_usd: 111, dau: 40, arpdau: 2.775 },
      { date: "2025-03-11", campaign: EVIL, revenue_usd: 5, dau: 0, arpdau: null },
    ],
    reconciliation: {
      tolerance_minutes: 10,
      summary: {
        matched: 90,
        af_only: 10,
        confirmed_only: 5,
        matched_revenue_usd: 1234.5,
        af_only_revenue_usd: 99.9,
        confirmed_only_revenue_usd: 12,
        revenue_mismatches: 3,
      },
    },
    quality: {
      files: {
        "purchases_raw.csv": { rows: 120, skipped: 2, reasons: { bad_time: 1, bad_number: 1 } },
        "confirmed_purchases.csv": { rows: 95, skipped: 0, reasons: { bad_time: 0, bad_number: 0 } },
        "costs_daily.csv": { rows: 24, skipped: 1, reasons: { bad_time: 0, bad_number: 1 } },
        "sessions.csv": { rows: 400, skipped: 0, reasons: { bad_time: 0, bad_number: 0 } },
      },
    },
  };
}

/** The campaign panel whose heading is `name` (escaped), up to the next panel. */
function panel(html: string, name: string): string {
  const start = html.indexOf(`<h3 title="${esc(name)}">`);
  expect(start).toBeGreaterThan(0);
  const open = html.lastIndexOf('<div class="card panel', start);
  const next = html.indexOf('<div class="card panel', start);
  return html.slice(open, next < 0 ? undefined : next);
}

describe("renderReport", () => {
  const html = renderReport(fixture());

  test("is a complete page with every campaign, table and section", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.trimEnd().endsWith("</html>")).toBe(true);
    for (const c of ["ALPHA", "BRAVO"]) expect(html).toContain(`<h3 title="${c}">${c}</h3>`);
    for (const s of ["D-1 ROAS and anomalies", "ARPDAU D-1", "Reconciliation", "Data quality", "All campaigns"])
      expect(html).toContain(s);
    for (const f of ["purchases_raw.csv", "confirmed_purchases.csv", "costs_daily.csv", "sessions.csv"])
      expect(html).toContain(`<td>${f}</td>`);
    expect(html).toContain("$1,234.50"); // matched revenue
    expect(html).toContain("$2.7750"); // ALPHA ARPDAU
    expect((html.match(/<svg viewBox="0 0 \d+ \d+" width="100%"/g) ?? []).length).toBe(4); // overview + 3 panels
  });

  test("marks the D-1 anomaly on its panel and in the D-1 table", () => {
    const bravo = panel(html, "BRAVO");
    expect(bravo).toContain(`class="card panel anomaly"`);
    expect(bravo).toContain(`<span class="badge bad">ANOMALY</span>`);
    expect(bravo).toContain("▼ anomaly");
    expect(bravo).toMatch(/<circle [^>]*r="7" fill="none" stroke="#dc2626"/);
    const alpha = panel(html, "ALPHA");
    expect(alpha).not.toContain("ANOMALY");
    expect(alpha).not.toContain("▼ anomaly");
    expect(html).toMatch(/<tr class="bad"><td>BRAVO<\/td>/);
    expect(html).toContain("ROAS anomalies</span><b>1 of 3</b>");
    // anomalies come first in the grid
    expect(html.indexOf(`<h3 title="BRAVO">`)).toBeLessThan(html.indexOf(`<h3 title="ALPHA">`));
  });

  test("escapes campaign names: no HTML injection", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son\w+="/i); // no event-handler attribute survives
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&quot;&#39; onload=&quot;alert(1)");
    const evil = panel(html, EVIL);
    expect(evil).toContain("no ad cost: ROAS n/a");
  });

  test("references no external resource", () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/@import|url\(|\ssrc=|\shref=/i);
    expect(html).toContain(`content="default-src 'none'`);
  });

  test("handles null ROAS and missing cost without NaN or null text", () => {
    expect(html).not.toMatch(/NaN|Infinity|undefined|>null</);
    const row = html.match(/<tr><td>&lt;script[^\n]*<\/tr>/)![0];
    expect(row).toContain("<td>—</td>"); // cost and ROAS shown as a dash
    expect(html).toContain("— (no DAU)");
  });

  test("handles empty data", () => {
    const empty: ReportInput = {
      generatedAt: "2025-01-01T00:00:00Z",
      asOf: "2025-01-02",
      d1: "2025-01-01",
      daily: [],
      roasD1: [],
      anomalies: [],
      arpdau: [],
      reconciliation: { tolerance_minutes: 10, summary: {} },
      quality: { files: {} },
    };
    const out = renderReport(empty);
    expect(out).toContain("No daily revenue or cost data.");
    expect(out).toContain("</html>");
    expect(out).not.toMatch(/NaN|Infinity|undefined/);
    // a single day, a single campaign, all nulls
    const one = renderReport({
      ...empty,
      daily: [{ date: "2025-01-01", campaign: "X", revenue_usd: 0, ad_cost_usd: null, roas: null }],
    });
    expect(one).toContain(`<h3 title="X">X</h3>`);
    expect(one).not.toMatch(/NaN|Infinity|undefined/);
  });

  test("is deterministic", () => {
    expect(renderReport(fixture())).toBe(html);
    expect(renderReport(JSON.parse(JSON.stringify(fixture())))).toBe(html);
  });
});

describe("report format helpers", () => {
  test("money, ticks, date range", () => {
    expect(fmtUsd(1234567.891)).toBe("$1,234,567.89");
    expect(fmtUsd(null)).toBe("—");
    expect(fmtUsd(Number.NaN)).toBe("—");
    expect(fmtUsdShort(1500)).toBe("$1.5k");
    expect(fmtUsdShort(25000)).toBe("$25k");
    expect(niceTicks(870, 3)).toEqual([0, 500, 1000]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(dayRange(["2025-03-02", "2025-02-27", "bad"])).toEqual([
      "2025-02-27",
      "2025-02-28",
      "2025-03-01",
      "2025-03-02",
    ]);
  });
});

describe("render in headless Chromium", () => {
  const has = existsSync(CHROMIUM);
  if (!has) console.log(`skip: Chromium render check (${CHROMIUM} not found; apt-get install -y chromium)`);
  test.skipIf(!has)("renders the report to a PNG", async () => {
    const dir = mkdtempSync(join(tmpdir(), "report-render-"));
    try {
      const file = join(dir, "index.html");
      writeFileSync(file, renderReport(fixture()));
      const r = await screenshot(file, join(dir, "shot.png"), { width: 1280, height: 2000 });
      expect(r.reason ?? "").toBe("");
      expect(r.ok).toBe(true);
      expect(r.width).toBe(1280);
      expect(r.height).toBe(2000);
      expect(r.bytes!).toBeGreaterThan(20000); // a blank page compresses to a few KB
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
