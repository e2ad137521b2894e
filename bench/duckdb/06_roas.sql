-- Daily ROAS (SPEC §4 rules 7-8): revenue of curated purchases and summed costs per (UTC date,
-- campaign), full outer join. cost is NULL when the day has no cost row; roas = revenue / cost,
-- NULL when cost is missing or 0. D-1 = as-of - 1; as-of defaults to the latest curated UTC date.

CREATE TABLE daily AS
WITH rev AS (
  SELECT floor_div(ts, 86400) AS day, campaign, sum(revenue) AS revenue, count(*) AS purchases
  FROM curated GROUP BY ALL
), cost AS (
  SELECT day, campaign, sum(cost) AS cost FROM costs WHERE bad IS NULL GROUP BY ALL
)
SELECT coalesce(r.day, c.day) AS day, coalesce(r.campaign, c.campaign) AS campaign,
  coalesce(r.revenue, 0) AS revenue, coalesce(r.purchases, 0) AS purchases, c.cost
FROM rev r FULL OUTER JOIN cost c ON c.day = r.day AND c.campaign = r.campaign;

SET VARIABLE as_of = coalesce(getvariable('as_of_day'), (SELECT floor_div(max(ts), 86400) FROM curated));
SET VARIABLE d1 = getvariable('as_of') - 1;

-- every campaign with revenue (a curated purchase, even if charged back) or cost on D-1
CREATE TABLE roas_d1 AS
SELECT campaign, revenue, purchases, cost
FROM daily
WHERE day = getvariable('d1') AND (purchases > 0 OR cost IS NOT NULL);
