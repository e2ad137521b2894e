/**
 * Reconciliation detail lines (SPEC 4 rule 6 and 4.1 "Outputs"), rendered to UTF-8 by the
 * reconciliation partitions themselves (reconcile/render.ts), where each id's rows sit side by
 * side in memory. The bytes live in shared memory: the pool writes them out without a copy.
 */
import { putInt, putJson, putTime, putUsd } from "./bytes.ts";
import { ascii, Out, put } from "./out.ts";

const T_NEXT = ascii(",\n    ");
const T_CONFIRMED_ONLY = ascii('{"type":"confirmed_only","appsflyer_id":');
const T_MATCHED = ascii('{"type":"matched","appsflyer_id":');
const T_AF_ONLY = ascii('{"type":"af_only","appsflyer_id":');
const T_AF_TIME = ascii(',"af_event_time_utc":"');
const T_AF_REVENUE = ascii('","af_revenue_usd":');
const T_AF_RECEIPT = ascii(',"af_receipt_id":');
const T_C_TIME = ascii(',"confirmed_event_time_utc":"');
const T_C_REVENUE = ascii('","confirmed_revenue_usd":');
const T_C_RECEIPT = ascii(',"confirmed_receipt_id":');
const T_DELTA = ascii(',"delta_seconds":');
const T_DIFF = ascii(',"revenue_diff_usd":');

/** One side of a detail (AF or confirmed): its time, revenue and receipt fields, after their key templates. */
function putSide(
  buf: Uint8Array,
  at: number,
  tTime: Uint8Array,
  time: number,
  tRevenue: Uint8Array,
  revenue: number,
  tReceipt: Uint8Array,
  rb: Uint8Array,
  rs: number,
  re: number,
): number {
  at = putTime(buf, put(buf, at, tTime), time);
  at = putUsd(buf, put(buf, at, tRevenue), revenue);
  return putJson(buf, put(buf, at, tReceipt), rb, rs, re);
}

/**
 * Writes reconciliation detail lines (compact JSON, keys in SPEC order, an absent side left out:
 * the text JSON.stringify gives for the flat object), each starting with ",\n    ". The id of the
 * group being written is set once (setId) and copied into each of its lines.
 */
export class DetailWriter {
  private readonly out: Out;
  private id = new Uint8Array(64);
  private idLen = 0;
  constructor(capacity: number) {
    this.out = new Out(capacity, true);
  }
  get size(): number {
    return this.out.at;
  }
  /** The appsflyer_id of the next lines (bytes [s, e) of src), as a JSON string literal. */
  setId(src: Uint8Array, s: number, e: number): void {
    if (this.id.length < 6 * (e - s) + 2) this.id = new Uint8Array(6 * (e - s) + 2);
    this.idLen = putJson(this.id, 0, src, s, e);
  }
  /** The line's opening (separator, type, id) at out.at; the caller has made room. */
  private head(buf: Uint8Array, template: Uint8Array): number {
    let at = put(buf, this.out.at, T_NEXT);
    at = put(buf, at, template);
    const id = this.id,
      n = this.idLen;
    for (let i = 0; i < n; i++) buf[at + i] = id[i]!;
    return at + n;
  }
  /** A matched pair: AF time, revenue (after chargebacks), receipt; confirmed time, revenue, receipt. */
  matched(
    at_: number,
    ar: number,
    arb: Uint8Array,
    ars: number,
    are: number,
    ct: number,
    cr: number,
    crb: Uint8Array,
    crs: number,
    cre: number,
  ): void {
    const buf = this.out.room(6 * (are - ars + cre - crs) + this.idLen + 512);
    let at = putSide(buf, this.head(buf, T_MATCHED), T_AF_TIME, at_, T_AF_REVENUE, ar, T_AF_RECEIPT, arb, ars, are);
    at = putSide(buf, at, T_C_TIME, ct, T_C_REVENUE, cr, T_C_RECEIPT, crb, crs, cre);
    at = put(buf, at, T_DELTA);
    at = putInt(buf, at, at_ - ct);
    at = put(buf, at, T_DIFF);
    at = putUsd(buf, at, ar - cr);
    buf[at++] = 125;
    this.out.at = at;
  }
  /** An unmatched purchase. */
  afOnly(at_: number, ar: number, arb: Uint8Array, ars: number, are: number): void {
    const buf = this.out.room(6 * (are - ars) + this.idLen + 512);
    const at = putSide(buf, this.head(buf, T_AF_ONLY), T_AF_TIME, at_, T_AF_REVENUE, ar, T_AF_RECEIPT, arb, ars, are);
    buf[at] = 125;
    this.out.at = at + 1;
  }
  /** An unmatched confirmation. */
  confirmedOnly(ct: number, cr: number, crb: Uint8Array, crs: number, cre: number): void {
    const buf = this.out.room(6 * (cre - crs) + this.idLen + 512);
    const head = this.head(buf, T_CONFIRMED_ONLY);
    const at = putSide(buf, head, T_C_TIME, ct, T_C_REVENUE, cr, T_C_RECEIPT, crb, crs, cre);
    buf[at] = 125;
    this.out.at = at + 1;
  }
  done(): Uint8Array {
    return this.out.done();
  }
}
