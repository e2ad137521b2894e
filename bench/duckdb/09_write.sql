-- Write (SPEC §4 rules 5-6, §4.1 "Outputs"): purchases_curated.csv and reconciliation.json, as
-- text lines in the SPEC's formats, so the files can be compared byte for byte with ours.
-- {{out}} is the output folder, {{tolerance_minutes}} the --tolerance-min value as JSON.
-- The four small JSON files are written by the runner from the tables of stages 06-08.

-- RFC 4180 field: quoted only when it holds a comma, quote, CR or LF.
CREATE OR REPLACE MACRO csv_field(s) AS
  CASE WHEN regexp_matches(s, '[",\r\n]') THEN '"' || replace(s, '"', '""') || '"' ELSE s END;
-- JSON string literal (the plain case without a function call).
CREATE OR REPLACE MACRO json_str(s) AS
  CASE WHEN regexp_matches(s, '["\\\x00-\x1f]') THEN to_json(s)::VARCHAR ELSE '"' || s || '"' END;
-- YYYY-MM-DDTHH:MM:SSZ of epoch seconds.
CREATE OR REPLACE MACRO iso_time(t) AS strftime(make_timestamp(t * 1000000), '%Y-%m-%dT%H:%M:%SZ');
-- Exact decimal of micro-dollars, no trailing zeros: 4990000 -> 4.99, 0 -> 0.
CREATE OR REPLACE MACRO micro_text(m) AS
  CASE WHEN m < 0 THEN '-' ELSE '' END || (abs(m) // 1000000)::VARCHAR
  || CASE WHEN abs(m) % 1000000 = 0 THEN ''
          ELSE '.' || rtrim(lpad((abs(m) % 1000000)::VARCHAR, 6, '0'), '0') END;
-- Micro-dollars rounded half away from zero to cents, as the JSON number JavaScript prints
-- (4.99, 12.5, 3, -0.01): integer arithmetic, no DECIMAL formatting.
CREATE OR REPLACE MACRO cents_text(c) AS
  (c // 100)::VARCHAR || CASE WHEN c % 100 = 0 THEN '' WHEN c % 10 = 0 THEN '.' || ((c % 100) // 10)::VARCHAR
                              ELSE '.' || lpad((c % 100)::VARCHAR, 2, '0') END;
CREATE OR REPLACE MACRO usd_json(m) AS
  CASE WHEN m < 0 AND abs(m) >= 5000 THEN '-' ELSE '' END || cents_text((abs(m) + 5000) // 10000);
-- @step write purchases_curated.csv
-- sorted by event_time_utc, appsflyer_id, receipt_id, then file order
COPY (
  SELECT line FROM (
    SELECT 0 AS part, 0 AS ts, '' AS afid, '' AS receipt, 0 AS rn,
      'appsflyer_id,event_name,event_time_utc,revenue_usd,campaign,receipt_id,chargeback' AS line
    UNION ALL
    SELECT 1, ts, afid, receipt, rn,
      csv_field(afid) || ',purchase,' || iso_time(ts) || ',' || micro_text(revenue) || ','
      || csv_field(campaign) || ',' || csv_field(receipt) || ',' || chargeback::VARCHAR
    FROM curated
  ) ORDER BY part, ts, afid, receipt, rn
) TO '{{out}}/purchases_curated.csv' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '');

-- @step write reconciliation.json
-- pretty top level, one compact detail object per line (sorted by appsflyer_id, time, type, file
-- order), a comma after every detail but the last: found by max(), so the details sort only once
COPY (
  WITH s AS (SELECT * FROM recon_summary),
  last AS (SELECT max({'a': afid, 'b': sort_ts, 'c': type_order, 'd': file_rn}) AS k, count(*) AS total FROM details),
  body AS (
    SELECT afid, sort_ts, type_order, file_rn,
      '    {"type":"' || type || '","appsflyer_id":' || json_str(afid)
      || CASE WHEN type_order < 2 THEN
           ',"af_event_time_utc":"' || iso_time(af_ts) || '","af_revenue_usd":' || usd_json(af_rev)
           || ',"af_receipt_id":' || json_str(af_receipt) ELSE '' END
      || CASE WHEN type_order <> 1 THEN
           ',"confirmed_event_time_utc":"' || iso_time(conf_ts) || '","confirmed_revenue_usd":' || usd_json(conf_rev)
           || ',"confirmed_receipt_id":' || json_str(conf_receipt) ELSE '' END
      || CASE WHEN type_order = 0 THEN
           ',"delta_seconds":' || (af_ts - conf_ts)::VARCHAR
           || ',"revenue_diff_usd":' || usd_json(af_rev - conf_rev) ELSE '' END
      || CASE WHEN {'a': afid, 'b': sort_ts, 'c': type_order, 'd': file_rn} = last.k THEN '}' ELSE '},' END AS line
    FROM details, last
  )
  SELECT line FROM (
    SELECT 0 AS part, '' AS afid, 0 AS sort_ts, 0 AS type_order, unnest(range(12)) AS file_rn, unnest([
      '{',
      '  "tolerance_minutes": {{tolerance_minutes}},',
      '  "summary": {',
      '    "matched": ' || s.matched || ',',
      '    "af_only": ' || s.af_only || ',',
      '    "confirmed_only": ' || s.confirmed_only || ',',
      '    "matched_revenue_usd": ' || usd_json(s.matched_micro) || ',',
      '    "af_only_revenue_usd": ' || usd_json(s.af_only_micro) || ',',
      '    "confirmed_only_revenue_usd": ' || usd_json(s.confirmed_only_micro) || ',',
      '    "revenue_mismatches": ' || s.revenue_mismatches,
      '  },',
      CASE WHEN last.total = 0 THEN '  "details": []' ELSE '  "details": [' END
    ]) AS line FROM s, last
    UNION ALL
    SELECT 1, afid, sort_ts, type_order, file_rn, line FROM body
    UNION ALL
    SELECT 2, '', 0, 0, unnest(range(2)), unnest(CASE WHEN last.total = 0 THEN ['', '}'] ELSE ['  ]', '}'] END) FROM last
  ) WHERE line <> ''
  ORDER BY part, afid, sort_ts, type_order, file_rn
) TO '{{out}}/reconciliation.json' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '');
