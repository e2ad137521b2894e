-- Value parsing and exact rounding (SPEC §4 rule 1, §4.1 "Parsing and validity", rule 11).
-- Unparseable values become NULL; the load stage turns NULLs into bad_time / bad_number.
-- Each parser is a regular expression that decides validity (one RE2 full match, no captures)
-- and then plain substring arithmetic on the validated layout: extracting capture groups per
-- row costs ten times more.

-- "Trimmed": whitespace at both ends. Only values that start or end with a control or space
-- character pay for the trim.
CREATE OR REPLACE MACRO trim_ws(s) AS
  CASE WHEN ascii(s) <= 32 OR ascii(right(s, 1)) <= 32
    THEN trim(s, chr(32) || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)) ELSE s END;

-- Campaign: trimmed and upper-cased. status / event_name: trimmed and lower-cased.
CREATE OR REPLACE MACRO norm_campaign(s) AS upper(trim_ws(coalesce(s, '')));
CREATE OR REPLACE MACRO norm_keyword(s) AS lower(trim_ws(coalesce(s, '')));

-- Integer division rounded towards minus infinity (DuckDB's // truncates).
CREATE OR REPLACE MACRO floor_div(a, b) AS (a - (((a % b) + b) % b)) // b;

-- Epoch day of a validated 'YYYY-MM-DD'; NULL when the date does not exist (2025-02-30).
CREATE OR REPLACE MACRO epoch_day(ymd) AS try_cast(ymd AS DATE) - DATE '1970-01-01';

-- Date column: 'YYYY-MM-DD' (t trimmed) -> epoch day.
CREATE OR REPLACE MACRO parse_date(t) AS
  CASE WHEN regexp_full_match(t, '\d{4}-\d{2}-\d{2}') THEN epoch_day(t) END;

-- ISO 8601 date-time (t trimmed): YYYY-MM-DD(T|t|space)HH:MM[:SS[(.|,)digits]][Z|z|±HH[[:]MM]],
-- hours 00-23, minutes and seconds 00-59. No offset means UTC; fractional seconds are truncated.
CREATE OR REPLACE MACRO is_iso_time(t) AS regexp_full_match(t,
  '\d{4}-\d{2}-\d{2}[Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d([.,]\d+)?)?([Zz]|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?');
-- Seconds east of UTC of an offset text '+HH', '+HHMM' or '-HH:MM' ('' = UTC).
CREATE OR REPLACE MACRO offset_seconds(o) AS
  CASE WHEN o = '' THEN 0 ELSE
    CASE left(o, 1) WHEN '-' THEN -1 ELSE 1 END
    * (substr(o, 2, 2)::BIGINT * 3600 + coalesce(try_cast(nullif(replace(substr(o, 4), ':', ''), '') AS BIGINT), 0) * 60)
  END;
-- The offset part of a validated time: from the first '+' or '-' after the minutes.
CREATE OR REPLACE MACRO offset_text(t) AS
  CASE WHEN greatest(strpos(substr(t, 17), '+'), strpos(substr(t, 17), '-')) = 0 THEN ''
       ELSE substr(t, 16 + greatest(strpos(substr(t, 17), '+'), strpos(substr(t, 17), '-'))) END;
-- Epoch seconds by substring arithmetic on a validated time; NULL when the date does not exist.
CREATE OR REPLACE MACRO iso_epoch(t) AS
  epoch_day(left(t, 10)) * 86400
  + substr(t, 12, 2)::BIGINT * 3600 + substr(t, 15, 2)::BIGINT * 60
  + CASE WHEN substr(t, 17, 1) = ':' THEN substr(t, 18, 2)::BIGINT ELSE 0 END
  - offset_seconds(offset_text(t));
-- Epoch seconds, NULL when unparseable. DuckDB's own TIMESTAMPTZ cast (TimeZone is set to UTC,
-- fractions truncated) gives the same value for the validated layouts it knows and is 3x faster;
-- the rest ('t', 'z', ',' fractions, dates that do not exist) goes through iso_epoch.
CREATE OR REPLACE MACRO parse_time(t) AS
  CASE WHEN is_iso_time(t) THEN
    coalesce(floor(epoch(try_cast(t AS TIMESTAMPTZ)))::BIGINT, iso_epoch(t))
  END;

-- Money (t trimmed): optional sign; a lone ',' or '.' is the decimal separator; with both, the
-- last one is the decimal separator and the other groups thousands (1-3 digits, then groups of
-- exactly 3). At least one digit. Anything else (NaN, 1e3, $4.99, 1,234,567) is unparseable.
CREATE OR REPLACE MACRO is_money(t) AS regexp_full_match(t,
  '[+-]?(\d+([.,]\d*)?|[.,]\d+|\d{1,3}(,\d{3})+\.\d*|\d{1,3}(\.\d{3})+,\d*)');
-- Validated money as plain '[-]digits[.digits]': grouping removed, '.' as the separator. With
-- both separators the decimal one is the later: every grouping separator precedes it.
CREATE OR REPLACE MACRO money_plain(t) AS
  CASE WHEN contains(t, ',') AND contains(t, '.') THEN
    CASE WHEN strpos(t, '.') > strpos(t, ',') THEN replace(t, ',', '') ELSE replace(replace(t, '.', ''), ',', '.') END
  ELSE replace(t, ',', '.') END;
-- The validated value as DECIMAL(18, 6), NULL when unparseable. DuckDB's cast rounds the
-- seventh decimal half away from zero (micro-dollar resolution, as the pipeline does).
CREATE OR REPLACE MACRO parse_money(t) AS
  CASE WHEN is_money(t) THEN try_cast(money_plain(t) AS DECIMAL(18, 6)) END;
-- Integer micro-dollars of parse_money(...); NULL past 2^53 - 1 micro-dollars, where a total
-- could not stay exact. In BIGINT arithmetic (d * 1000000 would need a 128-bit DECIMAL).
-- Macros repeat their arguments: the load stage gives this one a column, not an expression.
CREATE OR REPLACE MACRO to_micro(d) AS
  CASE WHEN abs(d) <= 9007199254.740991 THEN trunc(d)::BIGINT * 1000000 + ((d - trunc(d)) * 1000000)::BIGINT END;

-- Rounding half away from zero, once, at output: micro-dollars -> USD with 2 decimals,
-- num/den -> 6 decimals (exact integer arithmetic).
CREATE OR REPLACE MACRO usd(micro) AS
  (sign(micro) * ((abs(micro::HUGEINT) + 5000) // 10000))::DECIMAL(36, 0) * 0.01::DECIMAL(2, 2);
CREATE OR REPLACE MACRO ratio6(num, den) AS
  CASE WHEN den <> 0 THEN
    (sign(num) * sign(den) * ((2 * abs(num::HUGEINT) * 1000000 + abs(den::HUGEINT)) // (2 * abs(den::HUGEINT))))::DECIMAL(32, 0)
      * 0.000001::DECIMAL(6, 6) END;
