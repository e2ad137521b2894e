-- Load (SPEC §4 inputs, §4.1 parsing and validity). sessions.csv is read in 08_arpdau.sql, once
-- D-1 is known (as the pipeline does). The runner defines one view per file,
-- src_purchases, src_confirmed, src_costs, src_sessions: read_csv with every column as VARCHAR,
-- header names trimmed and case-insensitive, columns renamed to the SPEC's names. Each table
-- keeps every data row in file order (rowid = position in the file) with `bad` = NULL for a
-- usable row, else 'bad_time' or 'bad_number' for its first bad column in file order.
-- Each query works in levels: trimmed text, parsed values, micro-dollars, then `bad` (a macro
-- repeats its argument: each level hands the next a column, not an expression).

-- @step load purchases_raw.csv
CREATE TABLE purchases AS
SELECT afid, status, event, ts, micro, campaign, receipt,
  CASE WHEN ts IS NULL AND (revenue_ok OR getvariable('purchases_time_first')) THEN 'bad_time'
       WHEN NOT revenue_ok THEN 'bad_number' END AS bad
FROM (
  SELECT *,
    -- a chargeback row may carry no revenue: its receipt still counts
    micro IS NOT NULL OR (status = 'chargeback' AND money_text = '') AS revenue_ok
  FROM (
    SELECT * EXCLUDE (money), to_micro(money) AS micro
    FROM (
      SELECT afid, status, event, parse_time(time_text) AS ts, parse_money(money_text) AS money,
        money_text, campaign, receipt
      FROM (
        SELECT coalesce(appsflyer_id, '') AS afid,
          norm_keyword(status) AS status,
          norm_keyword(event_name) AS event,
          trim_ws(coalesce(event_time_utc, '')) AS time_text,
          trim_ws(coalesce(revenue_usd, '')) AS money_text,
          norm_campaign(campaign) AS campaign,
          coalesce(receipt_id, '') AS receipt
        FROM src_purchases
      )
    )
  )
);

-- @step load confirmed_purchases.csv
CREATE TABLE confirmed AS
SELECT afid, ts, micro, receipt,
  CASE WHEN ts IS NULL AND (micro IS NOT NULL OR getvariable('confirmed_time_first')) THEN 'bad_time'
       WHEN micro IS NULL THEN 'bad_number' END AS bad
FROM (
  SELECT afid, ts, to_micro(money) AS micro, receipt
  FROM (
    SELECT afid, parse_time(time_text) AS ts, parse_money(money_text) AS money, receipt
    FROM (
      SELECT coalesce(appsflyer_id, '') AS afid,
        trim_ws(coalesce(event_time_utc, '')) AS time_text,
        trim_ws(coalesce(revenue_usd, '')) AS money_text,
        coalesce(receipt_id, '') AS receipt
      FROM src_confirmed
    )
  )
);

-- @step load costs_daily.csv
CREATE TABLE costs AS
SELECT day, campaign, cost,
  CASE WHEN day IS NULL AND (cost IS NOT NULL OR getvariable('costs_date_first')) THEN 'bad_time'
       WHEN cost IS NULL THEN 'bad_number' END AS bad
FROM (
  SELECT day, campaign, to_micro(money) AS cost
  FROM (
    SELECT parse_date(date_text) AS day, campaign, parse_money(money_text) AS money
    FROM (
      SELECT trim_ws(coalesce(date, '')) AS date_text,
        norm_campaign(campaign) AS campaign,
        trim_ws(coalesce(ad_cost_usd, '')) AS money_text
      FROM src_costs
    )
  )
);

-- @step quality
CREATE TABLE quality AS
WITH t AS (
  SELECT 1 AS k, 'purchases_raw.csv' AS file, bad FROM purchases
  UNION ALL SELECT 2, 'confirmed_purchases.csv', bad FROM confirmed
  UNION ALL SELECT 3, 'costs_daily.csv', bad FROM costs
)
SELECT k, file, count(*) AS rows, count(bad) AS skipped,
  count(*) FILTER (WHERE bad = 'bad_time') AS bad_time,
  count(*) FILTER (WHERE bad = 'bad_number') AS bad_number
FROM t GROUP BY k, file ORDER BY k;
