-- Reconcile (SPEC §4 rule 6, §4.1): curated purchases against every usable confirmed purchase,
-- per appsflyer_id, one-to-one. Candidate pairs: |dt| <= tolerance (inclusive). Greedy: take pairs
-- in order of |dt|, AF time, confirmed time, AF file order, confirmed file order; a pair is taken
-- when neither of its rows is matched yet.
--
-- In SQL the greedy is run in rounds: a round takes every remaining pair that comes first (in
-- that order) among the remaining pairs of BOTH its rows, then drops every pair touching a taken
-- row. Such a pair is one the sequential greedy takes too (nothing before it can claim either
-- row), and the first remaining pair always qualifies, so the rounds end with the greedy result.

-- @step candidates
CREATE VIEW af AS SELECT rn AS af_rn, afid, ts AS af_ts, revenue AS af_rev, receipt AS af_receipt FROM curated;
CREATE VIEW conf AS
SELECT rowid AS conf_rn, afid, ts AS conf_ts, micro AS conf_rev, receipt AS conf_receipt
FROM confirmed WHERE bad IS NULL;
-- k: the pair's rank in the greedy order; comparing ranks is only ever done within one appsflyer_id
CREATE TABLE cand AS
SELECT a.af_rn, c.conf_rn,
  row_number() OVER (PARTITION BY a.afid
                     ORDER BY abs(a.af_ts - c.conf_ts), a.af_ts, c.conf_ts, a.af_rn, c.conf_rn) AS k
FROM af a JOIN conf c ON c.afid = a.afid AND abs(a.af_ts - c.conf_ts) <= getvariable('tolerance_sec');
CREATE TABLE pairs (af_rn BIGINT, conf_rn BIGINT);

-- @step rounds
-- @repeat-while SELECT count(*) > 0 FROM cand
CREATE OR REPLACE TABLE taken AS
SELECT af_rn, conf_rn FROM cand
QUALIFY k = min(k) OVER (PARTITION BY af_rn) AND k = min(k) OVER (PARTITION BY conf_rn);
INSERT INTO pairs SELECT af_rn, conf_rn FROM taken;
CREATE OR REPLACE TABLE cand AS
SELECT * FROM cand
WHERE af_rn NOT IN (SELECT af_rn FROM taken) AND conf_rn NOT IN (SELECT conf_rn FROM taken);

-- @step details
-- One row per detail, with what the summary and reconciliation.json need. A match sorts by its
-- AF time; ties: matched, af_only, confirmed_only, then file order.
CREATE TABLE details AS
SELECT 0 AS type_order, 'matched' AS type, a.afid, a.af_ts AS sort_ts, a.af_rn AS file_rn,
  a.af_ts, a.af_rev, a.af_receipt, c.conf_ts, c.conf_rev, c.conf_receipt
FROM pairs p JOIN af a USING (af_rn) JOIN conf c USING (conf_rn)
UNION ALL
SELECT 1, 'af_only', a.afid, a.af_ts, a.af_rn, a.af_ts, a.af_rev, a.af_receipt, NULL, NULL, NULL
FROM af a ANTI JOIN pairs p USING (af_rn)
UNION ALL
SELECT 2, 'confirmed_only', c.afid, c.conf_ts, c.conf_rn, NULL, NULL, NULL, c.conf_ts, c.conf_rev, c.conf_receipt
FROM conf c ANTI JOIN pairs p USING (conf_rn);
DROP TABLE cand;
DROP TABLE taken;

-- @step summary
-- matched_revenue sums the AF side after chargebacks; a difference above one cent (10,000
-- micro-dollars; exactly 0.01 is not) is a revenue mismatch.
CREATE TABLE recon_summary AS
SELECT
  count(*) FILTER (WHERE type_order = 0) AS matched,
  count(*) FILTER (WHERE type_order = 1) AS af_only,
  count(*) FILTER (WHERE type_order = 2) AS confirmed_only,
  coalesce(sum(af_rev) FILTER (WHERE type_order = 0), 0) AS matched_micro,
  coalesce(sum(af_rev) FILTER (WHERE type_order = 1), 0) AS af_only_micro,
  coalesce(sum(conf_rev) FILTER (WHERE type_order = 2), 0) AS confirmed_only_micro,
  count(*) FILTER (WHERE type_order = 0 AND abs(af_rev - conf_rev) > 10000) AS revenue_mismatches
FROM details;
