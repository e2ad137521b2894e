import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunView } from "./model";

/** The run's record beside the reports it produced (the brief: "review logs in reports/"); written on success only, as the reports are. */
export async function writeRunJson(outDir: string, view: RunView): Promise<void> {
  await writeFile(join(outDir, "run.json"), JSON.stringify(view, null, 2) + "\n");
}
