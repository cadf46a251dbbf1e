/**
 * `npm run bench:synth`: cold synthesis of all stacks of the example config, each run in a fresh
 * process. Target (issue 2): all stacks in under 1 s and 200 MB.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { EXAMPLE_CONFIG } from "../../core/project-root";
import { reportFigures } from "./report";

const RUNS = 5;

function once(): { wallMs: number; peakRssMiB: number; stacks: number } {
  const out = execFileSync(process.execPath, [path.join(__dirname, "synth-once.js"), process.argv[2] ?? EXAMPLE_CONFIG], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

once(); // warm-up: creates the example's lab PKI on a fresh machine
const runs: ReturnType<typeof once>[] = [];
for (let i = 0; i < RUNS; i++) {
  runs.push(once());
  process.stdout.write(process.stdout.isTTY ? `\rsynth run ${i + 1}/${RUNS}` : `synth run ${i + 1}/${RUNS}\n`);
}
const ok = reportFigures(
  "synth",
  [
    { name: `all ${runs[0].stacks} stacks, wall time (median of ${RUNS})`, value: Math.round(median(runs.map((r) => r.wallMs))), unit: "ms", max: 1000 },
    { name: "all stacks, wall time (worst)", value: Math.round(Math.max(...runs.map((r) => r.wallMs))), unit: "ms" },
    { name: "peak resident memory (worst)", value: Math.round(Math.max(...runs.map((r) => r.peakRssMiB))), unit: "MiB", max: 200 },
  ],
  { runs },
);
process.exitCode = ok ? 0 : 1;
