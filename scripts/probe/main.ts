#!/usr/bin/env node
/**
 * `npm run probe [-- --topology NAME|all] [--runtime loopback|netns|auto] [--quick] [--verbose]`: bad input of
 * every category against every topology (scripts/probe/run-probe.ts), on loopback or the project's
 * own network namespaces. Prints per category and topology: inputs tried, processes crashed, 5xx
 * (unexplained), let through; exits 1 when anything was let through, crashed, or answered with an
 * unexplained 5xx.
 */
import * as path from "node:path";
import { chooseRuntime, RuntimeChoice } from "../../simulator/runtime/runtime";
import { isTopologyName, TOPOLOGIES, TopologyName } from "../../simulator/runtime/topologies/definitions";
import { runProbe } from "./run-probe";
import { CATEGORIES, CategoryResult } from "./probe-model";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function table(results: readonly CategoryResult[], topologies: readonly string[]): string {
  const cell = (r: CategoryResult | undefined) => (r ? `${r.inputs} in, ${r.crashed.length} crashed, ${r.fiveXX} 5xx (${r.unexplained5xx} unexpl.), ${r.letThrough} through` : "-");
  const rows = [["category", ...topologies], ...CATEGORIES.map((c) => [c, ...topologies.map((t) => cell(results.find((r) => r.category === c && r.topology === t)))])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ")).join("\n");
}

async function main(): Promise<number> {
  const which = arg("topology") ?? "all";
  if (which !== "all" && !isTopologyName(which)) throw new Error(`--topology: unknown topology '${which}' (use one of ${TOPOLOGIES.join(", ")}, or all)`);
  const topologies: TopologyName[] = which === "all" ? [...TOPOLOGIES] : [which as TopologyName];
  const runtime = await chooseRuntime((arg("runtime") ?? "loopback") as RuntimeChoice, (m) => process.stderr.write(`${m}\n`));
  const t0 = Date.now();
  try {
    const results = await runProbe({
      topologies,
      runtime,
      labDir: path.resolve(arg("dir") ?? ".lab/probe"),
      quick: process.argv.includes("--quick"),
      onResult: (r) => {
        process.stderr.write(`probe: ${r.topology} / ${r.category}: ${r.inputs} inputs, ${r.letThrough} let through, ${r.unexplained5xx} unexplained 5xx (${r.ms} ms)\n`);
        if (process.argv.includes("--verbose")) for (const a of r.attempts) process.stderr.write(`  ${a.status ?? "-"} ${a.by ?? "-"} ${a.letThrough ? "LET THROUGH " : ""}${a.input.slice(0, 120)}\n`);
      },
    });
    process.stdout.write(`${table(results, topologies)}\n`);
    const findings = results.flatMap((r) => [...r.crashed.map((c) => `${r.topology} / ${r.category}: ${c} crashed`), ...r.findings.map((f) => `${r.topology} / ${r.category}: ${f}`)]);
    for (const f of findings) process.stdout.write(`${f}\n`);
    const sum = (k: "inputs" | "letThrough" | "unexplained5xx" | "fiveXX") => results.reduce((n, r) => n + r[k], 0);
    const crashed = results.reduce((n, r) => n + r.crashed.length, 0);
    process.stdout.write(`total: ${sum("inputs")} inputs, ${crashed} crashed, ${sum("fiveXX")} 5xx (${sum("unexplained5xx")} unexplained), ${sum("letThrough")} let through, ${Math.round((Date.now() - t0) / 1000)} s (runtime: ${runtime.name})\n`);
    return crashed + sum("letThrough") + sum("unexplained5xx") > 0 ? 1 : 0;
  } finally {
    await runtime.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`probe: ${e.message}\n`);
    process.exit(2);
  },
);
