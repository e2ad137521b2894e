/**
 * Value-level normalisation (SPEC 4 rule 1 and 4.1): money as integer micro-dollars, times as
 * epoch seconds, dates as epoch days, campaigns trimmed and upper-cased. Pure and allocation-light:
 * these run once per cell on every input row.
 */
import { decodeBytes } from "./columns/bytes.ts";

/** Micro-dollars per dollar: money is held as an integer count of these. */
export const MICRO = 1_000_000;
export const SECONDS_PER_DAY = 86_400;

const C0 = 48; // "0"
const COMMA = 44;
const DOT = 46;

let asciiBuffer = new Uint8Array(64);

/**
 * A string's characters as bytes (a reused buffer: valid until the next call), or null when one
 * is not ASCII: the string parsers run the byte parsers, and no parser here accepts a non-ASCII
 * character anywhere.
 */
function asciiBytes(s: string): Uint8Array | null {
  if (asciiBuffer.length < s.length) asciiBuffer = new Uint8Array(s.length * 2);
  const b = asciiBuffer;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return null;
    b[i] = c;
  }
  return b;
}

/**
 * Parses a money cell into integer micro-dollars; NaN when unparseable.
 * Trimmed; optional sign; a lone `,` or `.` is the decimal separator; with both, the last one is
 * the decimal separator and the other groups thousands (groups of three digits). Empty, `NaN`,
 * `1e3`, `$4.99`, two decimal separators or ragged thousands groups are unparseable.
 * Digits past the sixth decimal are rounded half away from zero (micro-dollar resolution).
 */
export function parseMoney(raw: string): number {
  const s = raw.length > 0 && (raw.charCodeAt(0) <= 32 || raw.charCodeAt(raw.length - 1) <= 32) ? raw.trim() : raw;
  const b = asciiBytes(s);
  return b === null ? NaN : moneyAt(b, 0, s.length);
}

/**
 * parseMoney over UTF-8 bytes [s, e) of a buffer: the same result as parseMoney on the decoded
 * string. A cell with a leading or trailing control/space byte goes through the string version
 * (String.prototype.trim also strips Unicode spaces); every other non-ASCII byte is unparseable
 * in both.
 */
export function parseMoneyBytes(b: Uint8Array, s: number, e: number): number {
  if (e === s) return NaN;
  if (b[s]! <= 32 || b[e - 1]! <= 32) return parseMoney(decodeBytes(b, s, e));
  return moneyAt(b, s, e);
}

/** The money parser proper, over trimmed bytes [s, e). */
function moneyAt(b: Uint8Array, s: number, e: number): number {
  if (e === s) return NaN;
  let i = s;
  let negative = false;
  const first = b[s]!;
  if (first === 45 /* - */ || first === 43 /* + */) {
    negative = first === 45;
    i = s + 1;
  }
  let lastComma = -1;
  let lastDot = -1;
  let commas = 0;
  let dots = 0;
  let digits = 0;
  for (let j = i; j < e; j++) {
    const c = b[j]!;
    if (c === COMMA) {
      commas++;
      lastComma = j;
    } else if (c === DOT) {
      dots++;
      lastDot = j;
    } else if ((c - C0) >>> 0 <= 9) digits++;
    else return NaN;
  }
  if (digits === 0) return NaN;
  let decimalAt = -1;
  let thousands = -1;
  if (commas > 0 && dots > 0) {
    decimalAt = Math.max(lastComma, lastDot);
    const decimalIsDot = lastDot > lastComma;
    if ((decimalIsDot ? dots : commas) !== 1) return NaN;
    thousands = decimalIsDot ? COMMA : DOT;
  } else if (commas + dots === 1) {
    decimalAt = commas === 1 ? lastComma : lastDot;
  } else if (commas + dots > 1) {
    return NaN;
  }
  const intEnd = decimalAt === -1 ? e : decimalAt;
  let whole = 0;
  let group = 0;
  let groups = 0;
  for (let j = i; j < intEnd; j++) {
    const c = b[j]!;
    if (c === thousands) {
      if (groups === 0 ? group === 0 || group > 3 : group !== 3) return NaN;
      groups++;
      group = 0;
      continue;
    }
    whole = whole * 10 + (c - C0);
    group++;
  }
  if (groups > 0 && group !== 3) return NaN;
  let frac = 0;
  if (decimalAt !== -1) {
    let scale = 100_000;
    for (let j = decimalAt + 1; j < e; j++) {
      const d = b[j]! - C0;
      if (scale >= 1) {
        frac += d * scale;
        scale /= 10;
      } else {
        if (scale === 0.1 && d >= 5) frac += 1;
        scale = 0;
      }
    }
  }
  const micro = whole * MICRO + frac;
  if (!Number.isSafeInteger(micro)) return NaN;
  return negative ? -micro : micro;
}

/** Cumulative days before each month (non-leap year), index 1..12. */
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Inverse of daysFromCivil: [year, month, day]. */
function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** Reads `count` ASCII digits of bytes at `at` (below `end`); -1 when any is not a digit. */
function digitsAtBytes(b: Uint8Array, at: number, count: number, end: number): number {
  if (at + count > end) return -1;
  let v = 0;
  for (let j = at; j < at + count; j++) {
    const d = b[j]! - C0;
    if (d >>> 0 > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** The last date dateAtBytes resolved (rows of a file cluster by day: most lookups hit). */
let lastDateKey = -1;
let lastDateDay = 0;

/** dateAt over bytes: epoch day of `YYYY-MM-DD` at `at` (the 10 bytes must exist below `end`). */
function dateAtBytes(b: Uint8Array, at: number, end: number): number {
  if (at + 10 > end || b[at + 4] !== 45 || b[at + 7] !== 45) return NaN;
  // Unrolled on purpose (hot: once per date or time cell): eight digit loads and one combined range check.
  const y0 = b[at]! - C0,
    y1 = b[at + 1]! - C0,
    y2 = b[at + 2]! - C0,
    y3 = b[at + 3]! - C0;
  const m0 = b[at + 5]! - C0,
    m1 = b[at + 6]! - C0,
    d0 = b[at + 8]! - C0,
    d1 = b[at + 9]! - C0;
  if ((y0 | y1 | y2 | y3 | m0 | m1 | d0 | d1) >>> 0 > 9) {
    // some byte below "0" (negative) or above "9": not all digits
    if (y0 >>> 0 > 9 || y1 >>> 0 > 9 || y2 >>> 0 > 9 || y3 >>> 0 > 9) return NaN;
    if (m0 >>> 0 > 9 || m1 >>> 0 > 9 || d0 >>> 0 > 9 || d1 >>> 0 > 9) return NaN;
  }
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3,
    m = m0 * 10 + m1,
    d = d0 * 10 + d1;
  const key = y * 10000 + m * 100 + d;
  if (key === lastDateKey) return lastDateDay;
  if (m < 1 || m > 12 || d < 1) return NaN;
  if (d > (m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m]!)) return NaN;
  lastDateKey = key;
  lastDateDay = daysFromCivil(y, m, d);
  return lastDateDay;
}

/** Parses a strict `YYYY-MM-DD` (trimmed) into epoch days; NaN when not a real date. */
export function parseDate(raw: string): number {
  const s = raw.length === 10 ? raw : raw.trim();
  if (s.length !== 10) return NaN;
  const b = asciiBytes(s);
  return b === null ? NaN : dateAtBytes(b, 0, 10);
}

/** parseDate over UTF-8 bytes [s, e) (anything but exactly 10 bytes goes through the string version, which trims). */
export function parseDateBytes(b: Uint8Array, s: number, e: number): number {
  if (e - s !== 10) return parseDate(decodeBytes(b, s, e));
  return dateAtBytes(b, s, e);
}

/**
 * Parses an ISO 8601 date-time into epoch seconds; NaN when unparseable.
 * `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]][Z|±HH[:MM]]`: no offset means UTC, fractional seconds are
 * truncated, the date must exist (2025-02-30 is bad), hours 00-23, seconds 00-59. Trimmed.
 */
export function parseTime(raw: string): number {
  const s = raw.length > 0 && (raw.charCodeAt(0) <= 32 || raw.charCodeAt(raw.length - 1) <= 32) ? raw.trim() : raw;
  const b = asciiBytes(s);
  return b === null ? NaN : timeAt(b, 0, s.length);
}

/** parseTime over UTF-8 bytes [s, e): the same result as parseTime on the decoded string. */
export function parseTimeBytes(b: Uint8Array, s: number, e: number): number {
  if (e === s) return NaN;
  if (b[s]! <= 32 || b[e - 1]! <= 32) return parseTime(decodeBytes(b, s, e));
  return timeAt(b, s, e);
}

/** The date-time parser proper, over trimmed bytes [s, e). */
function timeAt(b: Uint8Array, s: number, e: number): number {
  if (e - s < 16) return NaN;
  const day = dateAtBytes(b, s, e);
  if (day !== day) return NaN;
  const sep = b[s + 10]!;
  if (sep !== 84 /* T */ && sep !== 116 /* t */ && sep !== 32) return NaN;
  // Unrolled on purpose (hot: once per time cell): the fixed HH:MM positions read directly.
  const h0 = b[s + 11]! - C0,
    h1 = b[s + 12]! - C0,
    n0 = b[s + 14]! - C0,
    n1 = b[s + 15]! - C0;
  if (h0 >>> 0 > 9 || h1 >>> 0 > 9 || n0 >>> 0 > 9 || n1 >>> 0 > 9 || b[s + 13] !== 58 /* : */) return NaN;
  const hh = h0 * 10 + h1,
    mi = n0 * 10 + n1;
  if (hh > 23 || mi > 59) return NaN;
  let i = s + 16;
  let ss = 0;
  if (i < e && b[i] === 58) {
    if (i + 3 > e) return NaN;
    const s0 = b[i + 1]! - C0,
      s1 = b[i + 2]! - C0;
    if (s0 >>> 0 > 9 || s1 >>> 0 > 9) return NaN;
    ss = s0 * 10 + s1;
    if (ss > 59) return NaN;
    i += 3;
    if (i < e) {
      const c = b[i]!;
      if (c === DOT || c === COMMA) {
        i++;
        const start = i;
        while (i < e && (b[i]! - C0) >>> 0 <= 9) i++;
        if (i === start) return NaN;
      }
    }
  }
  let offset = 0;
  if (i < e) {
    const c = b[i]!;
    if (c === 90 /* Z */ || c === 122 /* z */) {
      i++;
    } else if (c === 43 || c === 45) {
      const oh = digitsAtBytes(b, i + 1, 2, e);
      if (oh < 0 || oh > 23 || i + 3 > e) return NaN;
      i += 3;
      let om = 0;
      if (i < e) {
        if (b[i] === 58) i++;
        om = digitsAtBytes(b, i, 2, e);
        if (om < 0 || om > 59 || i + 2 > e) return NaN;
        i += 2;
      }
      offset = (oh * 3600 + om * 60) * (c === 45 ? -1 : 1);
    } else return NaN;
  }
  if (i !== e) return NaN;
  return day * SECONDS_PER_DAY + hh * 3600 + mi * 60 + ss - offset;
}

/** Campaign as compared everywhere: trimmed and upper-cased. */
export function normaliseCampaign(raw: string): string {
  return raw.trim().toUpperCase();
}

/** status / event_name comparison form: trimmed and lower-cased. */
export function normaliseKeyword(raw: string): string {
  return raw.trim().toLowerCase();
}

/** "00".."99": times are formatted once per output row. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));

function pad2(v: number): string {
  return v < 100 ? TWO_DIGITS[v]! : String(v);
}

/** `YYYY-MM-DD` of an epoch day. */
export function formatDate(day: number): string {
  const [y, m, d] = civilFromDays(day);
  return String(y).padStart(4, "0") + "-" + pad2(m) + "-" + pad2(d);
}

let cachedDay = NaN;
let cachedDayText = "";
/** "HH:MM:SSZ" for each second of a day, built on first use (times are formatted once per output row). */
let clock: string[] | undefined;

/** Canonical `YYYY-MM-DDTHH:MM:SSZ` of epoch seconds (the date part is cached: rows cluster by day). */
export function formatTime(seconds: number): string {
  const day = Math.floor(seconds / SECONDS_PER_DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayText = formatDate(day) + "T";
  }
  clock ??= Array.from(
    { length: SECONDS_PER_DAY },
    (_, s) => pad2(Math.floor(s / 3600)) + ":" + pad2(Math.floor(s / 60) % 60) + ":" + pad2(s % 60) + "Z",
  );
  return cachedDayText + clock[seconds - day * SECONDS_PER_DAY]!;
}

/** Exact decimal text of integer micro-dollars: 4990000 -> "4.99", 0 -> "0". */
export function formatMicro(micro: number): string {
  const negative = micro < 0;
  const abs = negative ? -micro : micro;
  const whole = Math.floor(abs / MICRO);
  const frac = abs - whole * MICRO;
  let text = String(whole);
  if (frac !== 0) text += "." + String(frac).padStart(6, "0").replace(/0+$/, "");
  return negative ? "-" + text : text;
}
