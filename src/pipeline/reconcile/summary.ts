/** The reconciliation summary: counts and exact revenue sums, added up over the partitions. */
import { emptySummary, type ReconSummary } from "./types.ts";

/** Micro-dollars: a difference above one cent is a revenue mismatch (exactly 0.01 is not). */
export const MISMATCH_OVER = 10_000;

/** The partitions' summaries added up (integer micro-dollar sums: exact in any order). */
export function addSummaries(parts: { summary?: ReconSummary }[]): ReconSummary {
  const s = emptySummary();
  for (const { summary: p } of parts) {
    if (!p) throw new Error("partition was not rendered");
    s.matched += p.matched;
    s.afOnly += p.afOnly;
    s.confirmedOnly += p.confirmedOnly;
    s.matchedMicro += p.matchedMicro;
    s.afOnlyMicro += p.afOnlyMicro;
    s.confirmedOnlyMicro += p.confirmedOnlyMicro;
    s.revenueMismatches += p.revenueMismatches;
  }
  return s;
}
