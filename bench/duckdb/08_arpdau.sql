-- ARPDAU (SPEC §4 rule 10): for every campaign with revenue (a curated purchase) on D-1,
-- dau = distinct user_id in usable sessions on D-1, per campaign when sessions.csv has a
-- campaign column, else one all-campaign DAU; arpdau = revenue / dau, NULL when dau is 0.

-- @step load sessions.csv
-- Read once D-1 is known, as the pipeline does: every row is parsed and counted for
-- quality.json, and only D-1's distinct (campaign, user_id) are kept (one group per pair; all
-- other rows fall into the group with NULL keys). src_sessions.when_text is
-- event_timestamp_utc when the file has it (it wins), else date; campaign is '' without a column.
CREATE TABLE session_groups AS
SELECT CASE WHEN day = getvariable('d1') THEN campaign END AS campaign,
  CASE WHEN day = getvariable('d1') THEN user_id END AS user_id,
  count(*) AS rows, count(*) FILTER (WHERE day IS NULL) AS bad_time
FROM (
  SELECT user_id, campaign,
    CASE WHEN getvariable('sessions_timestamp') THEN floor_div(ts, 86400) ELSE parse_date(when_text) END AS day
  FROM (
    SELECT user_id, campaign, when_text,
      CASE WHEN getvariable('sessions_timestamp') THEN parse_time(when_text) END AS ts
    FROM (
      SELECT coalesce(user_id, '') AS user_id,
        trim_ws(coalesce(when_text, '')) AS when_text,
        norm_campaign(campaign) AS campaign
      FROM src_sessions
    )
  )
)
GROUP BY ALL;

INSERT INTO quality
SELECT 4, 'sessions.csv', sum(rows), sum(bad_time), sum(bad_time), 0 FROM session_groups;

-- @step arpdau
CREATE TABLE arpdau_d1 AS
WITH dau AS (
  SELECT CASE WHEN getvariable('sessions_has_campaign') THEN campaign ELSE '' END AS campaign,
    count(DISTINCT user_id) AS dau
  FROM session_groups
  WHERE user_id IS NOT NULL
  GROUP BY 1
)
SELECT r.campaign, r.revenue, coalesce(u.dau, 0) AS dau
FROM roas_d1 r
LEFT JOIN dau u ON u.campaign = CASE WHEN getvariable('sessions_has_campaign') THEN r.campaign ELSE '' END
WHERE r.purchases > 0;
