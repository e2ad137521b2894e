/** Placeholder: the report engineer replaces this body with the real self-contained HTML report. */
export interface ReportInput {
  generatedAt: string; // ISO time
  asOf: string;
  d1: string; // YYYY-MM-DD
  daily: { date: string; campaign: string; revenue_usd: number; ad_cost_usd: number | null; roas: number | null }[];
  roasD1: unknown[];
  anomalies: { date: string; campaign: string; roas_d1: number | null; avg7: number | null; baseline_days: number; anomaly: boolean }[];
  arpdau: { date: string; campaign: string; revenue_usd: number; dau: number; arpdau: number | null }[];
  reconciliation: { tolerance_minutes: number; summary: Record<string, number> };
  quality: { files: Record<string, { rows: number; skipped: number; reasons: { bad_time: number; bad_number: number } }> };
}

/** Renders the self-contained report page (placeholder body). */
export function renderReport(input: ReportInput): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Revenue report ${esc(input.d1)}</title></head><body><pre>${esc(JSON.stringify(input, null, 2))}</pre></body></html>\n`;
}
