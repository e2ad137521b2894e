import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Papa from "papaparse";
import { generate, parseArgs } from "../scripts/gen-data.ts";

const FILES = ["purchases_raw.csv", "confirmed_purchases.csv", "costs_daily.csv", "sessions.csv"];
const REQUIRED: Record<string, string[]> = {
  "purchases_raw.csv": [
    "appsflyer_id",
    "event_name",
    "event_time_utc",
    "revenue_usd",
    "campaign",
    "receipt_id",
    "status",
  ],
  "confirmed_purchases.csv": ["appsflyer_id", "event_time_utc", "revenue_usd", "receipt_id"],
  "costs_daily.csv": ["date", "campaign", "ad_cost_usd"],
  "sessions.csv": ["user_id", "event_timestamp_utc"],
};

const dirs: string[] = [];
async function gen(args: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "gen-data-"));
  dirs.push(dir);
  await generate(parseArgs(["--out", dir, "--quiet", ...args]));
  return dir;
}

function parse(dir: string, file: string): { header: string[]; rows: Record<string, string>[]; errors: number } {
  const text = readFileSync(join(dir, file), "utf8").replace(/^\uFEFF/, "");
  const r = Papa.parse<Record<string, string>>(text, {
    header: true,
    skipEmptyLines: true,
    transformHeader: (h) => h.trim().toLowerCase(),
  });
  return { header: r.meta.fields ?? [], rows: r.data, errors: r.errors.length };
}

describe("gen-data", () => {
  test("same seed and size give byte-identical files; another seed differs", async () => {
    const args = ["--purchases", "800", "--seed", "7", "--days", "12", "--campaigns", "5"];
    const a = await gen(args);
    const b = await gen(args);
    const c = await gen(["--purchases", "1200", "--seed", "8", "--days", "12", "--campaigns", "5"]);
    for (const f of FILES) {
      const x = readFileSync(join(a, f));
      expect(x.length).toBeGreaterThan(0);
      expect(Buffer.compare(x, readFileSync(join(b, f)))).toBe(0);
    }
    expect(readFileSync(join(a, "purchases_raw.csv")).equals(readFileSync(join(c, "purchases_raw.csv")))).toBe(false);
    // regenerating a smaller set over a bigger one leaves no stale tail
    await generate(parseArgs(["--out", c, "--quiet", ...args]));
    for (const f of FILES) expect(readFileSync(join(c, f)).equals(readFileSync(join(a, f)))).toBe(true);
  });

  test("files parse as CSV with the required columns and the expected messiness", async () => {
    const dir = await gen(["--purchases", "1500", "--seed", "3", "--days", "20", "--campaigns", "6"]);
    const parsed = Object.fromEntries(FILES.map((f) => [f, parse(dir, f)]));
    for (const f of FILES) {
      expect(parsed[f]!.errors).toBe(0);
      for (const col of REQUIRED[f]!) expect(parsed[f]!.header).toContain(col);
      expect(parsed[f]!.rows.length).toBeGreaterThan(0);
    }
    const p = parsed["purchases_raw.csv"]!.rows;
    const statuses = new Set(p.map((r) => r.status!.trim().toLowerCase()));
    expect(statuses).toContain("failed");
    expect(statuses).toContain("chargeback");
    expect(p.some((r) => r.status!.trim().toLowerCase() === "chargeback" && r.revenue_usd === "")).toBe(true);
    expect(p.some((r) => r.event_name!.trim().toLowerCase() !== "purchase")).toBe(true);
    expect(p.some((r) => /^\d+,\d\d$/.test(r.revenue_usd!))).toBe(true); // "4,99"
    expect(p.some((r) => r.campaign !== r.campaign!.trim())).toBe(true); // padded
    expect(p.some((r) => r.campaign === r.campaign!.toUpperCase() && /[A-Z]/.test(r.campaign!))).toBe(true);
    expect(p.some((r) => r.campaign!.includes(","))).toBe(true); // quoted field with a comma
    // duplicates: same (id, receipt) on two success purchase rows
    const seen = new Set<string>();
    let dupes = 0;
    for (const r of p) {
      if (r.status!.trim().toLowerCase() !== "success" || !r.receipt_id) continue;
      const k = `${r.appsflyer_id}|${r.receipt_id}`;
      if (seen.has(k)) dupes++;
      seen.add(k);
    }
    expect(dupes).toBeGreaterThan(5);
    // broken rows exist in the purchase files
    expect(
      p.some(
        (r) => ["not_a_date", "", "31/12/2024 10:00"].includes(r.event_time_utc!) || /^2025-13/.test(r.event_time_utc!),
      ),
    ).toBe(true);
    const raw = readFileSync(join(dir, "confirmed_purchases.csv"), "utf8");
    expect(raw.startsWith("\uFEFF")).toBe(true);
    expect(raw.includes("\r\n")).toBe(true);
    // cost-only campaign and split cost rows
    const costs = parsed["costs_daily.csv"]!.rows;
    expect(costs.some((r) => r.campaign!.trim().toUpperCase() === "CTV_BRAND_AWARENESS")).toBe(true);
    expect(p.some((r) => r.campaign!.trim().toUpperCase() === "CTV_BRAND_AWARENESS")).toBe(false);
  });

  test("--sessions-campaign adds a campaign column, --sessions-date a date column", async () => {
    const a = parse(await gen(["--purchases", "200", "--seed", "1", "--sessions-campaign"]), "sessions.csv");
    expect(a.header).toEqual(["user_id", "event_name", "event_timestamp_utc", "campaign"]);
    const b = parse(await gen(["--purchases", "200", "--seed", "1", "--sessions-date"]), "sessions.csv");
    expect(b.header).toEqual(["user_id", "event_name", "date"]);
    expect(b.rows.filter((r) => /^\d{4}-\d\d-\d\d$/.test(r.date!)).length).toBeGreaterThan(b.rows.length * 0.99);
  });

  test("exact purchase count and argument validation", async () => {
    const dir = await gen(["--purchases", "0", "--seed", "1", "--days", "3"]);
    const p = parse(dir, "purchases_raw.csv");
    expect(p.rows.filter((r) => r.status === "success" && r.event_name === "purchase").length).toBe(0);
    expect(() => parseArgs(["--purchases", "-1"])).toThrow();
    expect(() => parseArgs(["--bogus"])).toThrow();
    expect(parseArgs(["--", "--purchases", "5"]).purchases).toBe(5);
  });

  test("cleanup", () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
});
