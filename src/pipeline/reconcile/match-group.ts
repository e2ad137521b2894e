/**
 * SPEC 4 rule 6 inside one appsflyer_id: candidate pairs (|dt| <= tolerance, inclusive) taken in
 * order of |dt|, AF time, confirmed time, AF file order, confirmed file order; each row matches
 * at most once.
 */

/** Scratch arrays for candidate pairs (reused across groups). */
export interface Cand {
  af: number[];
  conf: number[];
  dt: number[];
  order: number[];
}

/**
 * Greedy one-to-one matching inside one appsflyer_id; ao/co are member positions (AF / confirmed),
 * time-ascending. Returns how many matched.
 */
export function matchGroup(
  ao: number[],
  co: number[],
  mTime: Float64Array,
  mIdx: Uint32Array,
  tol: number,
  mMatch: Int32Array,
  mTaken: Uint8Array,
  cand: Cand,
): number {
  cand.af.length = 0;
  cand.conf.length = 0;
  cand.dt.length = 0;
  let lo = 0;
  for (let x = 0; x < ao.length; x++) {
    const a = ao[x]!,
      ta = mTime[a]!;
    while (lo < co.length && mTime[co[lo]!]! < ta - tol) lo++;
    for (let y = lo; y < co.length; y++) {
      const c = co[y]!;
      if (mTime[c]! > ta + tol) break;
      cand.af.push(a);
      cand.conf.push(c);
      cand.dt.push(Math.abs(ta - mTime[c]!));
    }
  }
  const m = cand.af.length;
  if (m === 0) return 0;
  const order = cand.order;
  order.length = m;
  for (let i = 0; i < m; i++) order[i] = i;
  const { af: ca, conf: cc, dt } = cand;
  // |dt|, AF time, confirmed time, AF file order, confirmed file order (combined index follows file order per side)
  order.sort((i, j) => {
    const ai = ca[i]!,
      aj = ca[j]!,
      ci = cc[i]!,
      cj = cc[j]!;
    return (
      dt[i]! - dt[j]! ||
      mTime[ai]! - mTime[aj]! ||
      mTime[ci]! - mTime[cj]! ||
      mIdx[ai]! - mIdx[aj]! ||
      mIdx[ci]! - mIdx[cj]!
    );
  });
  let matched = 0;
  for (let x = 0; x < m; x++) {
    const i = order[x]!;
    const a = ca[i]!,
      c = cc[i]!;
    if (mMatch[a] !== -1 || mTaken[c]) continue;
    mMatch[a] = c;
    mTaken[c] = 1;
    matched++;
  }
  return matched;
}
