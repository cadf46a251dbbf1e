import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../core/project-root";
import type { Figure } from "./figures";

/** Where a bench run writes its files: reports/bench/<bench>.json per bench, and bench.html. */

export function defaultReportDir(): string {
  return path.join(projectRoot(), "reports", "bench");
}

export interface BenchReport {
  readonly bench: string;
  readonly measuredAt: string;
  /** A `--quick` run: small, its scale targets not asserted. */
  readonly quick: boolean;
  readonly figures: readonly Figure[];
  /** The bench's settings and raw results. */
  readonly [detail: string]: unknown;
}

/** Writes `<dir>/<bench>.json`; returns its path. */
export function writeBenchReport(dir: string, bench: string, quick: boolean, figures: readonly Figure[], details: Readonly<Record<string, unknown>> = {}, now = new Date()): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${bench}.json`);
  const report: BenchReport = { ...details, bench, measuredAt: now.toISOString(), quick, figures };
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
  return file;
}

/** Writes `<dir>/bench.html`; returns its path. */
export function writeBenchPage(dir: string, html: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "bench.html");
  fs.writeFileSync(file, html);
  return file;
}
