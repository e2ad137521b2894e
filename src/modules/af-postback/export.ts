/**
 * Stored AppsFlyer purchases as the pipeline's purchases_raw.csv (SPEC 4's columns), so a studio can run
 * the pipeline on live data. How each column is derived:
 * - appsflyer_id: as received; event_name: `purchase` (af_purchase and purchase records only);
 * - event_time_utc: event_time as `YYYY-MM-DDTHH:MM:SSZ` (fraction truncated, as the pipeline does);
 * - revenue_usd: event_revenue_usd, exact; campaign: as received (the pipeline trims and upper-cases);
 * - receipt_id: from event_value (af_receipt_id, else receipt_id, else af_order_id), empty when absent;
 * - status: `success` (AppsFlyer reports purchases that happened; refunds come from the store's export).
 */
import { open, rename, rm } from "node:fs/promises";
import { type PurchaseExportRow, purchaseRows } from "./repository";
import { PURCHASE_EVENTS } from "./service";

export const PURCHASES_RAW_HEADER = "appsflyer_id,event_name,event_time_utc,revenue_usd,campaign,receipt_id,status";

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(value: string | null): string {
  if (value === null) return "";
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvLine(row: PurchaseExportRow): string {
  return [row.appsflyer_id, "purchase", row.event_time_utc, row.revenue_usd, row.campaign, row.receipt_id, "success"]
    .map(csvField)
    .join(",");
}

export interface ExportOptions {
  /** first UTC date exported (YYYY-MM-DD) */
  from: string;
  /** last UTC date exported, inclusive */
  to: string;
  /** the CSV file written; replaced only when the export succeeds */
  out: string;
  /** rows read per query (keyset pages) */
  batchRows?: number;
}

/** Writes the purchases with event_time on from..to (UTC dates, inclusive) to `out`; returns the row count. */
export async function exportPurchases({ from, to, out, batchRows = 10_000 }: ExportOptions): Promise<number> {
  const start = new Date(`${from}T00:00:00Z`);
  const end = new Date(`${to}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  const temp = `${out}.${process.pid}.tmp`;
  const file = await open(temp, "w");
  let rows = 0;
  try {
    await file.write(`${PURCHASES_RAW_HEADER}\n`);
    for await (const batch of purchaseRows(start, end, PURCHASE_EVENTS, batchRows)) {
      await file.write(batch.map(csvLine).join("\n") + "\n");
      rows += batch.length;
    }
    await file.close();
    await rename(temp, out);
  } catch (error) {
    await file.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
  return rows;
}
