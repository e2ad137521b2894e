-- Chargebacks (SPEC §4 rule 4, §4.1): a receipt_id on any usable `chargeback` row (any
-- event_name, empty revenue allowed) zeroes the revenue of the kept purchases with that
-- receipt_id; they stay, flagged. An empty receipt_id zeroes nothing.

CREATE TABLE curated AS
WITH charged AS (
  SELECT DISTINCT receipt FROM purchases
  WHERE bad IS NULL AND status = 'chargeback' AND receipt <> ''
)
SELECT u.rn, u.afid, u.ts, u.campaign, u.receipt,
  c.receipt IS NOT NULL AS chargeback,
  CASE WHEN c.receipt IS NOT NULL THEN 0 ELSE u.micro END AS revenue
FROM uniq u LEFT JOIN charged c ON c.receipt = u.receipt;

-- the raw purchases and uniq are not needed any more
DROP TABLE uniq;
DROP TABLE purchases;
