/**
 * The header of an input file: names normalised (BOM stripped, trimmed, case-insensitive), the
 * wanted columns resolved into a Layout; a missing required column is a bad-input error.
 */
import { PipelineInputError } from "../errors.ts";
import { FILES, type FileKind } from "../tables.ts";

/** Header cell as compared: BOM stripped, trimmed, lower-cased. */
export function normaliseHeader(cell: string): string {
  return cell
    .replace(/^\uFEFF/, "")
    .trim()
    .toLowerCase();
}

/**
 * Maps column names to positions. Required names missing from the header are a bad-input error
 * naming the file, the header line and the column; optional ones map to -1. The first of
 * duplicated names wins.
 */
export function resolveColumns<R extends string, O extends string>(
  file: string,
  header: string[],
  line: number,
  required: readonly R[],
  optional: readonly O[] = [],
): Record<R | O, number> {
  const out = {} as Record<R | O, number>;
  for (const name of [...required, ...optional]) out[name] = header.indexOf(name);
  for (const name of required) {
    if (out[name] === -1) {
      throw new PipelineInputError(file, line, name, `missing required column "${name}" (header: ${header.join(",")})`);
    }
  }
  return out;
}

/** Where a file's wanted columns are: slot k of the row logic reads column at[k] (-1: absent). */
export interface Layout {
  kind: FileKind;
  /** column index -> slot (-1: not wanted) */
  slotOf: number[];
  /** slot -> column index (-1: absent) */
  at: number[];
  /** sessions: the time slot holds event_timestamp_utc (else date) */
  timestamp: boolean;
}

const SLOTS = {
  purchases: ["appsflyer_id", "event_name", "event_time_utc", "revenue_usd", "campaign", "receipt_id", "status"],
  confirmed: ["appsflyer_id", "event_time_utc", "revenue_usd", "receipt_id"],
  costs: ["date", "campaign", "ad_cost_usd"],
} as const;

/** Resolves the wanted columns from the normalised header; a missing one is a bad-input error. */
export function layoutFor(kind: FileKind, header: string[], line: number): Layout {
  const file = FILES[kind];
  let at: number[];
  let timestamp = false;
  if (kind === "sessions") {
    const c = resolveColumns(file, header, line, ["user_id"], ["event_timestamp_utc", "date", "campaign"]);
    if (c.event_timestamp_utc === -1 && c.date === -1) {
      const message = `missing required column "event_timestamp_utc" or "date" (header: ${header.join(",")})`;
      throw new PipelineInputError(file, line, "event_timestamp_utc", message);
    }
    timestamp = c.event_timestamp_utc !== -1;
    at = [c.user_id, timestamp ? c.event_timestamp_utc : c.date, c.campaign];
  } else {
    const names = SLOTS[kind];
    const c = resolveColumns(file, header, line, names) as Record<string, number>;
    at = names.map((n) => c[n]!);
  }
  const slotOf = new Array<number>(Math.max(...at) + 1).fill(-1);
  at.forEach((col, slot) => {
    if (col >= 0) slotOf[col] = slot;
  });
  return { kind, slotOf, at, timestamp };
}
