/** A file's segments merged, in file order, into one table whose big arrays are shared memory. */
import { chargedRows } from "../chargebacks.ts";
import type { ArrayKind, NumericArray } from "../columns/builder.ts";
import type { BytesColumn } from "../columns/bytes.ts";
import { Interner, renormalise } from "../columns/interner.ts";
import { shared } from "../columns/memory.ts";
import { normaliseCampaign } from "../normalise.ts";
import type {
  ConfirmedTable,
  CostsTable,
  FileKind,
  FileQuality,
  Loaded,
  PurchasesTable,
  SessionsTable,
  Table,
} from "../tables.ts";
import type { Segment } from "./segment.ts";
import type { ConfirmedCols } from "./sinks/confirmed.ts";
import type { CostsCols } from "./sinks/costs.ts";
import type { PurchasesCols } from "./sinks/purchases.ts";
import type { SessionsCols } from "./sinks/sessions.ts";
import { newQuality } from "./sinks/sink.ts";

function mergeQuality(segments: Segment[]): FileQuality {
  const q = newQuality();
  for (const s of segments) {
    q.rows += s.quality.rows;
    q.skipped += s.quality.skipped;
    q.bad_time += s.quality.bad_time;
    q.bad_number += s.quality.bad_number;
    const first = s.quality.firstBad;
    if (!q.firstBad && first) q.firstBad = { ...first, line: first.line + s.lineBase };
  }
  return q;
}

/** The parts one after another in `out` (a shared array of their total length). */
/** One shared column of n rows: the segments' columns, in file order. */
function concatColumn<A extends NumericArray>(kind: ArrayKind<A>, parts: A[], n: number): A {
  const out = shared(kind, n);
  let at = 0;
  for (const p of parts) {
    out.set(p as ArrayLike<number>, at);
    at += p.length;
  }
  return out;
}

function concatBytes(parts: BytesColumn[], n: number): BytesColumn {
  let total = 0;
  for (const p of parts) total += p.bytes.length;
  if (total > 0xffffffff) throw new RangeError("string column beyond 4 GiB");
  const bytes = shared(Uint8Array, total);
  const offsets = shared(Uint32Array, n + 1);
  let at = 0,
    row = 0;
  for (const p of parts) {
    bytes.set(p.bytes, at);
    const o = p.offsets;
    for (let i = 1; i < o.length; i++) offsets[row + i] = o[i]! + at;
    at += p.bytes.length;
    row += o.length - 1;
  }
  return { bytes, offsets };
}

/** Segment campaign codes into one code space over the raw values (first appearance in file order). */
/** A segment's campaign codes and the raw values they index. */
interface CampaignPart {
  campaign: Uint32Array;
  campaignRaw: string[];
}

function concatCampaigns(parts: CampaignPart[], n: number): { codes: Uint32Array; raw: string[] } {
  const interner = new Interner();
  const codes = shared(Uint32Array, n);
  let at = 0;
  for (const p of parts) {
    const remap = Uint32Array.from(p.campaignRaw, (v) => interner.code(v));
    const c = p.campaign;
    for (let i = 0; i < c.length; i++) codes[at + i] = remap[c[i]!]!;
    at += c.length;
  }
  return { codes, raw: interner.values };
}

/** Concatenates the segments' columns in file order: `numbers` for a typed-array column, `bytes` for a string column. */
function columnsOf<C extends { n: number }>(cols: C[]) {
  const n = cols.reduce((s, c) => s + c.n, 0);
  return {
    n,
    numbers: <A extends NumericArray>(kind: ArrayKind<A>, pick: (c: C) => A) => concatColumn(kind, cols.map(pick), n),
    bytes: (pick: (c: C) => BytesColumn) => concatBytes(cols.map(pick), n),
  };
}

/** The columns purchases and confirmations share: the id (bytes and hash), the time and the revenue. */
function idTimeRevenue(merge: ReturnType<typeof columnsOf<PurchasesCols | ConfirmedCols>>) {
  return {
    afid: merge.bytes((c) => c.afid),
    afidHash: merge.numbers(Int32Array, (c) => c.afidHash),
    time: merge.numbers(Float64Array, (c) => c.time),
    revenue: merge.numbers(Float64Array, (c) => c.revenue),
  };
}

/** Merges a file's segments (file order) into its table. */
export function mergeSegments(kind: FileKind, segments: Segment[]): Loaded {
  const quality = mergeQuality(segments);
  const usable = segments.reduce((s, x) => s + x.usable, 0);
  let table: Table;
  switch (kind) {
    case "purchases": {
      const cols = segments.map((s) => s.cols as PurchasesCols);
      const merge = columnsOf(cols);
      const campaign = concatCampaigns(cols, merge.n);
      const receipt = merge.bytes((c) => c.receipt);
      const receiptHash = merge.numbers(Int32Array, (c) => c.receiptHash);
      const t: PurchasesTable = {
        kind,
        n: merge.n,
        ...idTimeRevenue(merge),
        flags: merge.numbers(Uint8Array, (c) => c.flags),
        campaign: campaign.codes,
        campaignDict: renormalise(campaign.codes, campaign.raw, normaliseCampaign),
        receipt,
        charged: chargedRows(
          receipt,
          receiptHash,
          cols.map((c) => c.chargebacks),
        ),
      };
      table = t;
      break;
    }
    case "confirmed": {
      const merge = columnsOf(segments.map((s) => s.cols as ConfirmedCols));
      const t: ConfirmedTable = { kind, n: merge.n, ...idTimeRevenue(merge), receipt: merge.bytes((c) => c.receipt) };
      table = t;
      break;
    }
    case "costs": {
      const cols = segments.map((s) => s.cols as CostsCols);
      const merge = columnsOf(cols);
      const campaign = concatCampaigns(cols, merge.n);
      const t: CostsTable = {
        kind,
        n: merge.n,
        day: merge.numbers(Float64Array, (c) => c.day),
        campaign: campaign.codes,
        campaignDict: renormalise(campaign.codes, campaign.raw, normaliseCampaign),
        cost: merge.numbers(Float64Array, (c) => c.cost),
      };
      table = t;
      break;
    }
    case "sessions": {
      const cols = segments.map((s) => s.cols as SessionsCols);
      const merge = columnsOf(cols);
      const withCampaign = cols[0]!.campaign !== null;
      const campaign = withCampaign ? concatCampaigns(cols as CampaignPart[], merge.n) : null;
      const t: SessionsTable = {
        kind,
        n: merge.n,
        day: merge.numbers(Float64Array, (c) => c.day),
        user: merge.bytes((c) => c.user),
        userHash: merge.numbers(Int32Array, (c) => c.userHash),
        campaign: campaign ? campaign.codes : null,
        campaignDict: campaign ? renormalise(campaign.codes, campaign.raw, normaliseCampaign) : null,
      };
      table = t;
      break;
    }
  }
  return { table, quality, usable };
}
