import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { percentiles } from "../../simulator/common/stats";
import type { BenchContext, BenchOutcome } from "./context";
import { publish } from "./context";
import { targetRow, Figure } from "./figures";
import { TARGETS, SynthSettings } from "./plan";
import { status } from "./progress";

/**
 * bench:synth — cold synthesis of every stack of a config, each run in a fresh process
 * (synth-once.js: module loading included). Targets (issue 2): all stacks in under 1 s and 200 MB.
 */

export interface SynthRun {
  readonly stacks: number;
  readonly wallMs: number;
  readonly peakRssMiB: number;
}

function once(config: string): SynthRun {
  const out = execFileSync(process.execPath, [path.join(__dirname, "synth-once.js"), config], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!) as SynthRun;
}

export async function synthBench(ctx: BenchContext, o: SynthSettings): Promise<BenchOutcome> {
  once(o.config); // warm-up: creates the example's lab PKI on a fresh machine
  const runs: SynthRun[] = [];
  for (let i = 0; i < o.runs; i++) {
    status(`synth run ${i + 1}/${o.runs}`, true);
    runs.push(once(o.config));
  }
  const wall = percentiles(runs.map((r) => r.wallMs));
  const peak = Math.round(Math.max(...runs.map((r) => r.peakRssMiB)));
  const wallFigure: Figure = { name: `all ${runs[0].stacks} stacks, wall time (median of ${o.runs})`, value: Math.round(wall.p50!), unit: "ms", max: TARGETS.synthWallMs };
  const peakFigure: Figure = { name: "peak resident memory (worst)", value: peak, unit: "MiB", max: TARGETS.synthPeakMiB };
  const figures = [wallFigure, { name: "all stacks, wall time (worst)", value: Math.round(wall.max!), unit: "ms" }, peakFigure];
  publish(ctx, "synth", figures, { runs });
  return {
    section: { id: "synth", title: "Synthesis (bench:synth)", notes: [`Every stack of ${path.basename(o.config)} synthesized from a cold start in a fresh process (module loading included), ${o.runs} time${o.runs > 1 ? "s" : ""}.`], figures },
    targets: [targetRow(wallFigure, ctx.quick, { name: "synth: all stacks, cold, wall time" }), targetRow(peakFigure, ctx.quick, { name: "synth: peak resident memory" })],
  };
}
