import type { CellResult, SimulationReport, TopologyResult } from "./model";
import { barChart, escapeXml } from "./svg-chart";

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no external resource) with
 * the outcome table (every cell's evidence one click away), latency charts per topology and the
 * assumptions that are ours where AWS or IGEL document nothing.
 */

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d232a;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#5b6670;margin-bottom:16px}
.summary span{display:inline-block;padding:2px 10px;border-radius:10px;margin-right:8px;font-weight:600}
.pass{background:#e3f4e6;color:#1e6b2f}.fail{background:#fde4e2;color:#a1261b}.skipped{background:#fff4d6;color:#7a5a00}.na{background:#f5f7f8;color:#8a949c}
table.outcomes{border-collapse:collapse;width:100%}
.outcomes th,.outcomes td{border:1px solid #d5dade;padding:6px 8px;vertical-align:top;text-align:left}
.outcomes th{background:#f5f7f8;position:sticky;top:0}
.outcomes td.cell{min-width:150px}.outcomes th[scope=row]{min-width:260px;font-weight:600}
.outcomes td .actual{font-weight:600}
details summary{cursor:pointer;color:#37474f}
dl.evidence{margin:4px 0 0;font-size:12px}dl.evidence dt{font-weight:600;color:#5b6670}dl.evidence dd{margin:0 0 4px;word-break:break-word;font-family:ui-monospace,monospace}
.charts{display:flex;flex-wrap:wrap;gap:16px}
svg.chart{background:#fff;border:1px solid #d5dade;border-radius:4px}
svg .grid{stroke:#e3e7ea}svg .tick{font-size:11px;fill:#5b6670}svg .chart-title{font-size:13px;font-weight:600;fill:#1d232a}
table.latency{border-collapse:collapse}table.latency td,table.latency th{border:1px solid #d5dade;padding:4px 8px;text-align:right}
ul.assumptions li{margin-bottom:6px}
table.inputs{border-collapse:collapse}table.inputs td,table.inputs th{border:1px solid #d5dade;padding:4px 8px;text-align:left;vertical-align:top}tr.substituted td:nth-child(2){color:#7a5a00;font-weight:600}tr.yours td:nth-child(2){color:#1e6b2f;font-weight:600}.outcomes th .source{font-weight:400;font-size:12px;color:#1e6b2f}
.not-proved{background:#fff4d6;border:1px solid #e8d595;border-radius:4px;padding:8px 12px;margin:12px 0}.not-proved ul{margin:4px 0 0}
`;

function evidenceList(cell: CellResult): string {
  const entries = Object.entries(cell.evidence).filter(([, v]) => v !== undefined && v !== "");
  if (cell.note) entries.push(["note", cell.note]);
  if (entries.length === 0) return "";
  return `<details><summary>evidence</summary><dl class="evidence">${entries
    .map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(String(v))}</dd>`)
    .join("")}</dl></details>`;
}

function outcomeTable(report: SimulationReport): string {
  const topologies = report.topologies.map((t) => t.name);
  const byKey = new Map(report.cells.map((c) => [`${c.scenario}\u0000${c.topology}`, c]));
  const source = new Map(report.topologies.map((t) => [t.name, t.source]));
  const head = `<tr><th>scenario</th>${topologies.map((t) => `<th>${escapeXml(t)}${source.get(t) === "your stack" ? `<div class="source">from your stack</div>` : ""}</th>`).join("")}</tr>`;
  const rows = report.scenarios.map((s) => {
    const cells = topologies.map((t) => {
      const cell = byKey.get(`${s.id}\u0000${t}`);
      if (!cell) return `<td class="cell skipped">not run</td>`;
      const expected = cell.verdict === "fail" ? `<div>expected: ${escapeXml(cell.expected)}</div>` : "";
      return `<td class="cell ${cell.verdict === "n/a" ? "na" : cell.verdict}" data-verdict="${cell.verdict}"><div class="actual">${escapeXml(cell.actual)}</div>${expected}${evidenceList(cell)}</td>`;
    });
    return `<tr><th scope="row">${escapeXml(s.title)}</th>${cells.join("")}</tr>`;
  });
  return `<table class="outcomes"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>`;
}

function latencySection(topologies: readonly TopologyResult[]): string {
  const series = ["p50", "p95", "p99"];
  const chart = (title: string, pick: (t: TopologyResult) => TopologyResult["onboarding"]) =>
    barChart({ title, unit: "ms", series, groups: topologies.map((t) => ({ label: t.name, values: [pick(t).p50 ?? 0, pick(t).p95 ?? 0, pick(t).p99 ?? 0] })) });
  const rows = topologies
    .map(
      (t) =>
        `<tr><th>${escapeXml(t.name)}</th><td>${t.devices}</td><td>${t.startMs}</td>` +
        [t.onboarding, t.commandRoundTrip].map((l) => `<td>${l.count}</td>${[l.p50, l.p95, l.p99].map((v) => `<td>${v ?? "–"}</td>`).join("")}`).join("") +
        `</tr>`,
    )
    .join("");
  return (
    `<div class="charts">${chart("Onboarding time per device", (t) => t.onboarding)}${chart("Command round trip (IMI request to device result)", (t) => t.commandRoundTrip)}</div>` +
    `<table class="latency"><thead><tr><th>topology</th><th>devices</th><th>start ms</th><th>onboarded</th><th>p50</th><th>p95</th><th>p99</th><th>commands</th><th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

/** With --config: which inputs were the administrator's and which were substituted, and why. */
function inputsSection(report: SimulationReport): string {
  if (!report.inputs) return "";
  const rows = report.inputs.inputs
    .map((i) => `<tr class="${i.origin}"><td>${escapeXml(i.input)}</td><td>${escapeXml(i.origin)}</td><td>${escapeXml(i.note)}</td><td><code>${escapeXml(i.file)}</code></td></tr>`)
    .join("");
  return `<h2>Inputs: yours / substituted</h2><p>The stacks were synthesized from <code>${escapeXml(report.inputs.configFile)}</code>.</p><table class="inputs"><thead><tr><th>input</th><th>used</th><th>why / what</th><th>file</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderHtmlReport(report: SimulationReport): string {
  const s = report.summary;
  const assumptions = report.assumptions
    .map((a) => `<li><strong>${escapeXml(a.text)}</strong><br>Check on a real deployment: ${escapeXml(a.checkOnRealSystem)}</li>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ums-edge simulation report</title><style>${CSS}</style></head>
<body>
<h1>ums-edge simulation report</h1>
<div class="meta">generated ${escapeXml(report.generatedAt)} by ums-edge ${escapeXml(report.version)} &middot; runtime: ${escapeXml(report.runtime)} &middot; ${report.devicesPerTopology} devices per topology</div>
<div class="summary"><span class="pass">${s.pass} as expected</span><span class="fail">${s.fail} mismatches</span><span class="skipped">${s.skipped} skipped</span><span class="na">${s.notApplicable} not applicable</span></div>
${report.notProved.length ? `<div class="not-proved"><strong>Not proved on this runtime:</strong><ul>${report.notProved.map((n) => `<li>${escapeXml(n)}</li>`).join("")}</ul></div>` : ""}
${inputsSection(report)}
<h2>Outcomes: expected behaviour per topology</h2>
${outcomeTable(report)}
<h2>Latency per topology</h2>
${latencySection(report.topologies)}
<h2>Assumptions that are ours</h2>
<p>Where neither AWS nor IGEL documents the behaviour, the simulation had to choose. Check these on a real deployment.</p>
<ul class="assumptions">${assumptions}</ul>
</body></html>
`;
}
