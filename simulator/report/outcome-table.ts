import type { SimulationReport } from "./model";
import { textTable } from "./text-table";

const MARK = { pass: "ok", fail: "MISMATCH", skipped: "SKIPPED", "n/a": "" } as const;

/** The outcome table as text: one row per scenario, one column per topology; mismatches listed after it. */
export function renderOutcomeTable(report: SimulationReport): string {
  const topologies = report.topologies.map((t) => t.name);
  const byKey = new Map(report.cells.map((c) => [`${c.scenario}\u0000${c.topology}`, c]));
  const rows = report.scenarios.map((s) => [
    s.title,
    ...topologies.map((t) => {
      const c = byKey.get(`${s.id}\u0000${t}`);
      if (!c) return "-";
      return c.verdict === "n/a" ? "n/a" : c.verdict === "pass" ? c.actual : `${MARK[c.verdict]}: ${c.actual}`;
    }),
  ]);
  const source = new Map(report.topologies.map((t) => [t.name, t.source]));
  let text = textTable(["scenario", ...topologies.map((t) => (source.get(t) === "your stack" ? `${t} (your stack)` : t))], rows);
  const failed = report.cells.filter((c) => c.verdict === "fail");
  for (const c of failed) {
    text += `\nMISMATCH ${c.topology} / ${c.scenario}\n  expected: ${c.expected}\n  actual:   ${c.actual}\n`;
    const ev = Object.entries(c.evidence).filter(([, v]) => v !== undefined);
    if (ev.length) text += `  evidence: ${ev.map(([k, v]) => `${k}=${String(v)}`).join("; ")}\n`;
  }
  const s = report.summary;
  for (const c of report.cells.filter((c) => c.verdict === "skipped")) text += `\nSKIPPED ${c.topology} / ${c.scenario}: ${c.note ?? ""}\n`;
  text += `\n${s.pass} as expected, ${s.fail} mismatches, ${s.skipped} skipped, ${s.notApplicable} not applicable (runtime: ${report.runtime})\n`;
  for (const n of report.notProved) text += `not proved on this runtime: ${n}\n`;
  if (report.inputs) {
    text += `\ninputs from ${report.inputs.configFile}:\n`;
    text += textTable(["input", "used", "why / what"], report.inputs.inputs.map((i) => [i.input, i.origin, i.note]));
  }
  return text;
}
