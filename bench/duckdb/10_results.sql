-- Results (SPEC §4 rules 8-11, §4.1 "Outputs"): the rows of the four small JSON files, rounded
-- half away from zero once (USD to 2 decimals, ratios to 6), sorted by campaign. The runner
-- writes each query's rows as a JSON array, keys in this order.

-- @query quality.json
SELECT file, rows, skipped, bad_time, bad_number FROM quality ORDER BY k;

-- @query roas_d1.json
SELECT strftime(DATE '1970-01-01' + getvariable('d1')::INT, '%Y-%m-%d') AS date, campaign,
  usd(revenue) AS revenue_usd,
  usd(cost) AS ad_cost_usd,
  CASE WHEN cost <> 0 THEN ratio6(revenue, cost) END AS roas
FROM roas_d1 ORDER BY campaign;

-- @query roas_anomaly.json
SELECT strftime(DATE '1970-01-01' + getvariable('d1')::INT, '%Y-%m-%d') AS date, campaign,
  CASE WHEN cost <> 0 THEN ratio6(revenue, cost) END AS roas_d1,
  CASE WHEN baseline_days > 0 THEN ratio6(roas_sum_e20, baseline_days * 100000000000000000000::HUGEINT) END AS avg7,
  baseline_days,
  anomaly
FROM roas_anomaly ORDER BY campaign;

-- @query arpdau_d1.json
SELECT strftime(DATE '1970-01-01' + getvariable('d1')::INT, '%Y-%m-%d') AS date, campaign,
  usd(revenue) AS revenue_usd,
  dau,
  CASE WHEN dau > 0 THEN ratio6(revenue, dau * 1000000) END AS arpdau
FROM arpdau_d1 ORDER BY campaign;
