/** Dictionary codes: each distinct string gets a dense code in order of first appearance. */

/** String dictionary: each distinct value gets a dense code in order of first appearance. */
export class Interner {
  private readonly codes = new Map<string, number>();
  readonly values: string[] = [];
  code(value: string): number {
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.codes.set(value, code);
      this.values.push(value);
    }
    return code;
  }
}

/**
 * Re-keys a dictionary column through a normalising function (e.g. campaign trim + upper-case):
 * normalisation runs once per distinct raw value, not once per row.
 */
export function renormalise(codes: Uint32Array, dict: string[], normalise: (raw: string) => string): string[] {
  const out = new Interner();
  const remap = new Uint32Array(dict.length);
  for (let i = 0; i < dict.length; i++) remap[i] = out.code(normalise(dict[i]!));
  for (let i = 0; i < codes.length; i++) codes[i] = remap[codes[i]!]!;
  return out.values;
}
