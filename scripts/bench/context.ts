import * as os from "node:os";
import * as path from "node:path";
import type { Section } from "./bench-html";
import { figuresText, Figure, TargetRow } from "./figures";
import { writeBenchReport } from "./report-files";
import { openFilesLimit } from "./process-tree";
import { CORES, loadAverage } from "./progress";
import type { BenchLab } from "./bench-topology";

/** What every bench gets (the run's size and where it writes) and what it gives back (its page section and targets). */

export interface BenchContext {
  readonly quick: boolean;
  /** reports/bench */
  readonly reportDir: string;
  /** The lab the fleet benches share, prepared on first use. */
  readonly lab: () => Promise<BenchLab>;
}

export interface BenchOutcome {
  readonly section: Section;
  readonly targets: readonly TargetRow[];
}

/** Prints a bench's figures and writes reports/bench/<bench>.json. */
export function publish(ctx: BenchContext, bench: string, figures: readonly Figure[], details: Readonly<Record<string, unknown>> = {}): void {
  process.stdout.write(figuresText(bench, figures, ctx.quick));
  const file = writeBenchReport(ctx.reportDir, bench, ctx.quick, figures, { machine: machine(), ...details });
  process.stdout.write(`written: ${path.relative(process.cwd(), file)}\n`);
}

/** The machine a figure was measured on. */
export function machine(): Record<string, unknown> {
  const { soft, hard } = openFilesLimit();
  return { cores: CORES, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverage: loadAverage(), openFiles: { soft, hard } };
}
