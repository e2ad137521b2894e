/**
 * Byte formatters: each writes one value's text at `at` in a buffer the caller has made room in,
 * and returns the position after it. The text is the same as formatting the value as a string
 * (String, formatMicro, usdText, formatTime, csvField, JSON.stringify) and encoding it; ids are
 * copied as bytes and escaped only where needed, numbers and times are written digit by digit.
 */
import { usd } from "../exact.ts";
import { formatDate, MICRO, SECONDS_PER_DAY } from "../normalise.ts";
import { ascii, put } from "./out.ts";

/** Decimal digits of a non-negative integer < 2^53 (what String(v) prints). */
function putUint(buf: Uint8Array, at: number, v: number): number {
  if (v < 10) {
    buf[at] = 48 + v;
    return at + 1;
  }
  if (v < 2147483648) {
    // 32-bit integer maths (the common case: dollars, cents, seconds)
    let x = v | 0;
    // Unrolled on purpose (hot: every number written): digit count by comparisons, no loop or log10.
    const digits =
      x < 100
        ? 2
        : x < 1000
          ? 3
          : x < 10000
            ? 4
            : x < 100000
              ? 5
              : x < 1000000
                ? 6
                : x < 10000000
                  ? 7
                  : x < 100000000
                    ? 8
                    : x < 1000000000
                      ? 9
                      : 10;
    for (let i = at + digits - 1; i >= at; i--) {
      const q = (x / 10) | 0;
      buf[i] = 48 + x - q * 10;
      x = q;
    }
    return at + digits;
  }
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  let x = v;
  for (let i = at + digits - 1; i >= at; i--) {
    const q = Math.floor(x / 10);
    buf[i] = 48 + (x - q * 10);
    x = q;
  }
  return at + digits;
}

/** Exact decimal text of integer micro-dollars (formatMicro): 4990000 -> "4.99", 0 -> "0". */
export function putMicro(buf: Uint8Array, at: number, micro: number): number {
  if ((micro | 0) === micro) {
    // 32-bit integer maths (no float division or modulo on the common path)
    let m = micro | 0;
    if (m < 0) {
      buf[at++] = 45;
      m = -m;
    }
    const whole = (m / 1000000) | 0;
    let frac = m - whole * 1000000;
    at = putUint(buf, at, whole);
    if (frac !== 0) {
      buf[at++] = 46;
      let scale = 100000;
      while (frac !== 0) {
        const d = (frac / scale) | 0;
        buf[at++] = 48 + d;
        frac -= d * scale;
        scale = (scale / 10) | 0;
      }
    }
    return at;
  }
  const negative = micro < 0;
  const abs = negative ? -micro : micro;
  const whole = Math.floor(abs / MICRO);
  let frac = abs - whole * MICRO;
  if (negative) buf[at++] = 45;
  at = putUint(buf, at, whole);
  if (frac !== 0) {
    buf[at++] = 46;
    let scale = MICRO / 10;
    while (frac !== 0) {
      const d = Math.floor(frac / scale);
      buf[at++] = 48 + d;
      frac -= d * scale;
      scale /= 10;
    }
  }
  return at;
}

/** JSON number of usd(micro) (usdText): "4.99", "5", "0.1", "-0.01". */
export function putUsd(buf: Uint8Array, at: number, micro: number): number {
  let cents: number, negative: boolean;
  if ((micro | 0) === micro) {
    // |micro| < 2^31: usd()'s rounding in 32-bit integer maths
    let m = micro | 0;
    negative = m < 0;
    if (negative) m = -m;
    let c = (m / 10000) | 0;
    if ((m - c * 10000) * 2 >= 10000) c++;
    cents = c;
    negative = negative && c !== 0;
  } else {
    const value = usd(micro);
    cents = Math.round(Math.abs(value) * 100);
    negative = value < 0;
  }
  const whole = Math.floor(cents / 100),
    frac = cents - whole * 100;
  if (negative) buf[at++] = 45;
  at = putUint(buf, at, whole);
  if (frac !== 0) {
    buf[at++] = 46;
    const tens = (frac / 10) | 0,
      ones = frac - tens * 10;
    buf[at++] = 48 + tens;
    if (ones !== 0) buf[at++] = 48 + ones;
  }
  return at;
}

/** A signed integer (delta seconds). */
export function putInt(buf: Uint8Array, at: number, v: number): number {
  if (v < 0) {
    buf[at++] = 45;
    v = -v;
  }
  return putUint(buf, at, v);
}

/**
 * Canonical `YYYY-MM-DDTHH:MM:SSZ` of epoch seconds (formatTime). The date text (formatDate + "T")
 * is cached per day in one flat table for the years around the first day seen (module-level:
 * every chunk a worker renders shares it, and the JIT sees one stable shape).
 */
const NEAR_DAYS = 1 << 16;
let nearBase = NaN;
const nearText = new Uint8Array(NEAR_DAYS * 11);
const nearDone = new Uint8Array(NEAR_DAYS);

function putDateSlow(buf: Uint8Array, at: number, day: number): number {
  return put(buf, at, ascii(formatDate(day) + "T"));
}

export function putTime(buf: Uint8Array, at: number, seconds: number): number {
  const day = Math.floor(seconds / SECONDS_PER_DAY);
  if (nearBase !== nearBase) nearBase = day - (NEAR_DAYS >> 1);
  const k = day - nearBase;
  if (k >= 0 && k < NEAR_DAYS) {
    const from = k * 11;
    if (nearDone[k] === 0) {
      const text = ascii(formatDate(day) + "T");
      if (text.length === 11) {
        nearText.set(text, from);
        nearDone[k] = 1;
      } else nearDone[k] = 2; // a year past 9999: not 11 bytes
    }
    if (nearDone[k] === 1) {
      for (let i = 0; i < 11; i++) buf[at + i] = nearText[from + i]!;
      at += 11;
    } else at = putDateSlow(buf, at, day);
  } else at = putDateSlow(buf, at, day);
  const s = (seconds - day * SECONDS_PER_DAY) | 0; // 0..86399
  const h = (s / 3600) | 0,
    rest = s - h * 3600,
    m = (rest / 60) | 0,
    sec = rest - m * 60;
  const h1 = (h / 10) | 0,
    m1 = (m / 10) | 0,
    s1 = (sec / 10) | 0;
  // Unrolled on purpose (hot: every time written): HH:MM:SSZ as nine direct byte writes.
  buf[at] = 48 + h1;
  buf[at + 1] = 48 + h - h1 * 10;
  buf[at + 2] = 58;
  buf[at + 3] = 48 + m1;
  buf[at + 4] = 48 + m - m1 * 10;
  buf[at + 5] = 58;
  buf[at + 6] = 48 + s1;
  buf[at + 7] = 48 + sec - s1 * 10;
  buf[at + 8] = 90;
  return at + 9;
}

/** Bytes a CSV field must be quoted for: , " CR LF. */
const CSV_SPECIAL = new Uint8Array(256);
for (const c of [44, 34, 13, 10]) CSV_SPECIAL[c] = 1;

/** JSON escapes (JSON.stringify): 0 = as is; 1 = \uXXXX; else the letter after the backslash. */
const JSON_ESCAPE = new Uint8Array(256);
for (let c = 0; c < 32; c++) JSON_ESCAPE[c] = 1;
JSON_ESCAPE[8] = 98; // \b
JSON_ESCAPE[9] = 116; // \t
JSON_ESCAPE[10] = 110; // \n
JSON_ESCAPE[12] = 102; // \f
JSON_ESCAPE[13] = 114; // \r
JSON_ESCAPE[34] = 34; // \"
JSON_ESCAPE[92] = 92; // \\
const HEX = ascii("0123456789abcdef");

/** Bytes [s, e) of src as a CSV field (csvField). */
export function putCsv(buf: Uint8Array, at: number, src: Uint8Array, s: number, e: number): number {
  const start = at;
  for (let j = s; j < e; j++) {
    const b = src[j]!;
    if (CSV_SPECIAL[b] === 1) {
      // quote it: rewrite from the start, doubling quotes
      at = start;
      buf[at++] = 34;
      for (let k = s; k < e; k++) {
        const c = src[k]!;
        buf[at++] = c;
        if (c === 34) buf[at++] = 34;
      }
      buf[at++] = 34;
      return at;
    }
    buf[at++] = b;
  }
  return at;
}

/** Bytes [s, e) of src as a JSON string literal (JSON.stringify of the decoded string). */
export function putJson(buf: Uint8Array, at: number, src: Uint8Array, s: number, e: number): number {
  buf[at++] = 34;
  for (let j = s; j < e; j++) {
    const b = src[j]!;
    const esc = JSON_ESCAPE[b]!;
    if (esc === 0) buf[at++] = b;
    else if (esc === 1) {
      buf[at] = 92;
      buf[at + 1] = 117;
      buf[at + 2] = 48;
      buf[at + 3] = 48;
      buf[at + 4] = HEX[b >> 4]!;
      buf[at + 5] = HEX[b & 15]!;
      at += 6;
    } else {
      buf[at] = 92;
      buf[at + 1] = esc;
      at += 2;
    }
  }
  buf[at++] = 34;
  return at;
}
