/** quality.json (SPEC 4.1): per file, rows read, rows skipped and the reasons, zeros included. */
import { FILE_KINDS, FILES, type FileKind, type FileQuality } from "./tables.ts";

/** The quality.json document. */
export interface QualityReport {
  files: Record<string, { rows: number; skipped: number; reasons: { bad_time: number; bad_number: number } }>;
}

/** Builds quality.json in the fixed file order of the SPEC. */
export function qualityReport(byKind: Record<FileKind, FileQuality>): QualityReport {
  const files: QualityReport["files"] = {};
  for (const kind of FILE_KINDS) {
    const q = byKind[kind];
    files[FILES[kind]] = {
      rows: q.rows,
      skipped: q.skipped,
      reasons: { bad_time: q.bad_time, bad_number: q.bad_number },
    };
  }
  return { files };
}
