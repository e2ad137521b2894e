/**
 * Bad input to the pipeline (missing file or column, empty file, no usable row, bad flag).
 * The CLI turns it into exit code 2; `file`, `line` and `column` say where.
 */
export class PipelineInputError extends Error {
  override readonly name = "PipelineInputError";
  constructor(
    /** file name as the user knows it, e.g. "purchases_raw.csv" (or a flag such as "--as-of") */
    readonly file: string,
    /** 1-based line in the file, when there is one */
    readonly line: number | undefined,
    /** column name (and position when known), when there is one */
    readonly column: string | undefined,
    readonly detail: string,
  ) {
    super(formatInputError(file, line, column, detail));
  }

  /** Plain data, so the error can cross a worker boundary (class identity does not). */
  toJSON(): PipelineInputErrorData {
    return { file: this.file, line: this.line, column: this.column, detail: this.detail };
  }

  static fromJSON(data: PipelineInputErrorData): PipelineInputError {
    return new PipelineInputError(data.file, data.line, data.column, data.detail);
  }
}

/** Serialisable form of a PipelineInputError. */
export interface PipelineInputErrorData {
  file: string;
  line: number | undefined;
  column: string | undefined;
  detail: string;
}

function formatInputError(file: string, line: number | undefined, column: string | undefined, detail: string): string {
  let where = file;
  if (line !== undefined) where += `, line ${line}`;
  if (column !== undefined) where += `, column ${column}`;
  return `${where}: ${detail}`;
}
