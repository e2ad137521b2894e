-- Filter (SPEC §4 rule 2): usable rows with status `success`, event_name `purchase`, revenue > 0.
-- rn = the row's position in purchases_raw.csv: file order for every tie-break after this.

CREATE TABLE kept AS
SELECT rowid AS rn, afid, ts, micro, campaign, receipt
FROM purchases
WHERE bad IS NULL AND status = 'success' AND event = 'purchase' AND micro > 0;
