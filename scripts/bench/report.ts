import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../core/project-root";
import { textTable } from "../../simulator/report/text-table";

/** A benchmark figure with its target, for the table and the JSON file. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The figure passes when `value <= max` (or `>= min`). */
  readonly max?: number;
  readonly min?: number;
}

export function passes(f: Figure): boolean {
  return (f.max === undefined || f.value <= f.max) && (f.min === undefined || f.value >= f.min);
}

/** Prints the figures as a table and writes them to reports/bench/<name>.json; returns whether all pass. */
export function reportFigures(bench: string, figures: readonly Figure[], extra: Record<string, unknown> = {}): boolean {
  const rows = figures.map((f) => [
    f.name,
    `${Number.isInteger(f.value) ? f.value : f.value.toFixed(2)} ${f.unit}`,
    f.max !== undefined ? `<= ${f.max} ${f.unit}` : f.min !== undefined ? `>= ${f.min} ${f.unit}` : "",
    f.max === undefined && f.min === undefined ? "" : passes(f) ? "ok" : "MISSED",
  ]);
  process.stdout.write(`\n${bench}\n${textTable(["figure", "measured", "target", ""], rows)}`);
  const dir = path.join(projectRoot(), "reports", "bench");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${bench}.json`);
  fs.writeFileSync(file, JSON.stringify({ bench, measuredAt: new Date().toISOString(), figures, ...extra }, null, 2) + "\n");
  process.stdout.write(`written: ${path.relative(process.cwd(), file)}\n`);
  return figures.every(passes);
}
