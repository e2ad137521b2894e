/** SQL of the AppsFlyer postback table: insert once per purchase key, and the purchase rows for the CSV export. */
import { rawQuery } from "../../db/client";
import type { PostbackRow } from "./service";

const INSERT = `insert into af_postbacks (purchase_key, appsflyer_id, event_name, event_time, event_revenue_usd, campaign, media_source, receipt_id, record)
values ($1, $2, $3, $4::timestamptz, $5::numeric, $6, $7, $8, $9::jsonb)
on conflict (purchase_key) do nothing
returning id`;

/** Inserts the row unless its purchase key is stored; then answers the stored row's id. */
export async function insertRecord(row: PostbackRow): Promise<{ recordId: number; replayed: boolean }> {
  const params = [
    row.purchaseKey,
    row.appsflyerId,
    row.eventName,
    row.eventTime,
    row.revenueUsd,
    row.campaign,
    row.mediaSource,
    row.receiptId,
    row.record,
  ];
  const [inserted] = await rawQuery<{ id: string | number }>(INSERT, params);
  if (inserted) return { recordId: Number(inserted.id), replayed: false };
  // the conflicting insert has committed (on conflict waits for it), so the row is visible
  const [stored] = await rawQuery<{ id: string | number }>("select id from af_postbacks where purchase_key = $1", [
    row.purchaseKey,
  ]);
  return { recordId: Number(stored.id), replayed: true };
}

/** One purchase row as the export writes it. */
export interface PurchaseExportRow {
  id: string;
  appsflyer_id: string;
  event_name: string;
  event_time_utc: string;
  revenue_usd: string;
  campaign: string | null;
  receipt_id: string | null;
  /** event_time to the microsecond: the keyset position */
  event_time_exact: string;
}

const PURCHASES = `select id::text as id, appsflyer_id, event_name,
  to_char(event_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as event_time_utc,
  event_revenue_usd::text as revenue_usd, campaign, receipt_id,
  to_char(event_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as event_time_exact
from af_postbacks
where event_time >= $1::timestamptz and event_time < $2::timestamptz
  and lower(event_name) = any($3::text[]) and event_revenue_usd is not null
  and (event_time, id) > ($4::timestamptz, $5::bigint)
order by event_time, id
limit $6`;

/**
 * Purchase rows with event_time in [from, to), in (event_time, id) order, `batch` at a time (keyset pages),
 * so an export of millions of rows never holds them all.
 */
export async function* purchaseRows(
  from: Date,
  to: Date,
  eventNames: string[],
  batch = 10_000,
): AsyncGenerator<PurchaseExportRow[]> {
  let after: [string, string] = [new Date(0).toISOString(), "0"];
  for (;;) {
    const rows = await rawQuery<PurchaseExportRow>(PURCHASES, [
      from.toISOString(),
      to.toISOString(),
      eventNames,
      after[0],
      after[1],
      batch,
    ]);
    if (rows.length === 0) return;
    yield rows;
    const last = rows[rows.length - 1];
    after = [last.event_time_exact, last.id];
    if (rows.length < batch) return;
  }
}
