-- Anomaly (SPEC §4 rule 9): avg7 = mean of the campaign's non-null daily ROAS over D-8 .. D-2
-- (cost and no revenue counts as 0; neither, or revenue without cost, is skipped).
-- anomaly = roas_d1 < 0.5 * avg7 when both are non-null and avg7 > 0.
-- Ratios are summed as integers scaled by 10^20 (floor): exact to 1e-19, far below the 6
-- decimals written, so only an exact rounding tie at the 7th decimal could come out different.

CREATE TABLE roas_anomaly AS
WITH base AS (
  SELECT campaign, count(*) AS baseline_days,
    sum(floor_div(revenue::HUGEINT * 100000000000000000000, cost)) AS roas_sum_e20
  FROM daily
  WHERE day BETWEEN getvariable('d1') - 7 AND getvariable('d1') - 1 AND cost <> 0
  GROUP BY campaign
)
SELECT d.campaign, d.revenue, d.cost,
  coalesce(b.baseline_days, 0) AS baseline_days, b.roas_sum_e20,
  coalesce(d.cost <> 0 AND b.roas_sum_e20 > 0
    AND 2 * b.baseline_days * floor_div(d.revenue::HUGEINT * 100000000000000000000, d.cost) < b.roas_sum_e20,
    false) AS anomaly
FROM roas_d1 d LEFT JOIN base b USING (campaign);
