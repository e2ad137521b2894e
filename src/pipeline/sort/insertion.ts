/**
 * The insertion sort every stage uses for its short runs (same-second purchases, one id's
 * members, one id's equal-time details, radix buckets of a few byte strings). It moves
 * positions only through the caller's functions, so one sort serves runs spread over several
 * arrays that move together: `after(x, y)` says whether the element at position x belongs after
 * the one at y; `swap(x, y)` exchanges the two positions in every array. Stable.
 *
 * No copy is kept for the hottest user (an id's members, reconcile/match.ts): on 1M groups of 1-6
 * members the calls through `after` and `swap` cost 55 ms against 32 ms for a hand-inlined copy
 * (median of 11), which is inside the noise of the 4-12 s reconcile stage it runs in.
 */
export function insertionSort(
  from: number,
  to: number,
  after: (x: number, y: number) => boolean,
  swap: (x: number, y: number) => void,
): void {
  for (let x = from + 1; x < to; x++) {
    for (let y = x; y > from && after(y - 1, y); y--) swap(y - 1, y);
  }
}
