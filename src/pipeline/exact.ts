/**
 * Exact arithmetic for the outputs (SPEC 4 rule 11, 4.1 rounding): money stays integer
 * micro-dollars, ratios stay BigInt fractions, and rounding half away from zero happens once,
 * when a value is written.
 */

/** An exact fraction num/den with den > 0. */
export interface Ratio {
  num: bigint;
  den: bigint;
}

/** a/b of two integers (b != 0). */
export function ratio(a: number | bigint, b: number | bigint): Ratio {
  let num = BigInt(a),
    den = BigInt(b);
  if (den === 0n) throw new RangeError("ratio with zero denominator");
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  return { num, den };
}

export function addRatio(x: Ratio, y: Ratio): Ratio {
  return { num: x.num * y.den + y.num * x.den, den: x.den * y.den };
}

/** x / k for a positive integer k. */
export function divRatio(x: Ratio, k: number): Ratio {
  return { num: x.num, den: x.den * BigInt(k) };
}

/** x < y, exactly. */
export function lessThan(x: Ratio, y: Ratio): boolean {
  return x.num * y.den < y.num * x.den;
}

export function isPositive(x: Ratio): boolean {
  return x.num > 0n;
}

/** num/den rounded half away from zero to an integer. */
function roundDiv(num: bigint, den: bigint): bigint {
  const negative = num < 0n !== den < 0n;
  const n = num < 0n ? -num : num,
    d = den < 0n ? -den : den;
  const q = (2n * n + d) / (2n * d);
  return negative ? -q : q;
}

/** A ratio rounded half away from zero to `decimals` places, as the nearest JS number. */
export function roundRatio(x: Ratio, decimals = 6): number {
  const scale = 10n ** BigInt(decimals);
  return Number(roundDiv(x.num * scale, x.den)) / Number(scale);
}

/** Integer micro-dollars rounded half away from zero to cents, as a JS number (4.99). */
export function usd(micro: number): number {
  if (!Number.isSafeInteger(micro)) throw new RangeError(`money total ${micro} is beyond exact integer range`);
  const abs = Math.abs(micro);
  let cents = Math.floor(abs / 10_000);
  let rest = abs - cents * 10_000;
  // float division can land one off near huge values: settle the remainder exactly
  if (rest < 0) {
    cents--;
    rest += 10_000;
  } else if (rest >= 10_000) {
    cents++;
    rest -= 10_000;
  }
  if (rest * 2 >= 10_000) cents++;
  const value = cents / 100;
  return micro < 0 && value !== 0 ? -value : value;
}

/**
 * JSON text of usd(micro), made from integers (what JSON.stringify(usd(micro)) prints, without a
 * float-to-string conversion per value): "4.99", "5", "0.1", "-0.01".
 */
export function usdText(micro: number): string {
  const value = usd(micro);
  const cents = Math.round(Math.abs(value) * 100);
  const whole = Math.floor(cents / 100),
    frac = cents - whole * 100;
  const sign = value < 0 ? "-" : "";
  if (frac === 0) return sign + whole;
  return sign + whole + (frac % 10 === 0 ? "." + frac / 10 : frac < 10 ? ".0" + frac : "." + frac);
}
