-- ARPDAU (SPEC §4 rule 10): for every campaign with revenue (a curated purchase) on D-1,
-- dau = distinct user_id in usable sessions on D-1, per campaign when sessions.csv has a
-- campaign column, else one all-campaign DAU; arpdau = revenue / dau, NULL when dau is 0.

CREATE TABLE arpdau_d1 AS
WITH dau AS (
  SELECT CASE WHEN getvariable('sessions_has_campaign') THEN campaign ELSE '' END AS campaign,
    count(DISTINCT user_id) AS dau
  FROM sessions
  WHERE bad IS NULL AND day = getvariable('d1')
  GROUP BY 1
)
SELECT r.campaign, r.revenue, coalesce(u.dau, 0) AS dau
FROM roas_d1 r
LEFT JOIN dau u ON u.campaign = CASE WHEN getvariable('sessions_has_campaign') THEN r.campaign ELSE '' END
WHERE r.purchases > 0;

-- sessions are not needed any more
DROP TABLE sessions;
