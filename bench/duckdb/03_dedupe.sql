-- Dedupe (SPEC §4 rule 3): one row per appsflyer_id | event_time_utc | event_name | revenue_usd
-- (normalised: event_name is `purchase` on every kept row), the first in file order.

CREATE TABLE uniq AS
SELECT * FROM kept
QUALIFY row_number() OVER (PARTITION BY afid, ts, micro ORDER BY rn) = 1;

-- kept is not needed any more (memory: every table lives in RAM)
DROP TABLE kept;
