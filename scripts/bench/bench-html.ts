import { barChart, BarChartOptions, escapeXml, lineChart, LineChartOptions } from "../../simulator/report/svg-chart";
import { formatValue, targetText, verdictOf, Figure, TargetRow } from "./figures";

/**
 * reports/bench/bench.html: one self-contained page (inline CSS and SVG, no script, no external
 * resource) in the style of the simulation report (simulator/report/html-report.ts): the targets
 * and whether each was met, then one section per benchmark with its charts and its figures.
 */

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d232a;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
.meta{color:#5b6670;margin-bottom:16px}
.summary span{display:inline-block;padding:2px 10px;border-radius:10px;margin-right:8px;font-weight:600}
.pass{background:#e3f4e6;color:#1e6b2f}.fail{background:#fde4e2;color:#a1261b}.skipped{background:#fff4d6;color:#7a5a00}.na{background:#f5f7f8;color:#8a949c}
.charts{display:flex;flex-wrap:wrap;gap:16px}
svg.chart{background:#fff;border:1px solid #d5dade;border-radius:4px}
svg .grid{stroke:#e3e7ea}svg .tick{font-size:11px;fill:#5b6670}svg .chart-title{font-size:13px;font-weight:600;fill:#1d232a}
table.figures{border-collapse:collapse;margin:6px 0}
table.figures td,table.figures th{border:1px solid #d5dade;padding:4px 8px;text-align:right;vertical-align:top}
table.figures th{background:#f5f7f8}
table.figures td:first-child,table.figures th:first-child{text-align:left}
td.verdict{font-weight:600}
caption{text-align:left;color:#5b6670;padding:2px 0}
p.note{color:#37474f;max-width:1000px}
`;

/** A bar chart of a section; the page sets its width. */
export type Chart = Omit<BarChartOptions, "width" | "height">;

export interface Section {
  readonly id: string;
  readonly title: string;
  /** Paragraphs of plain text (escaped). */
  readonly notes?: readonly string[];
  readonly charts?: readonly Chart[];
  /** Lines over time with events marked (a soak's timeline, a reconnect storm). */
  readonly timeCharts?: readonly LineChartOptions[];
  /** Tables: a caption, a header and rows of plain text. */
  readonly tables?: ReadonlyArray<{ readonly caption?: string; readonly header: readonly string[]; readonly rows: ReadonlyArray<readonly string[]> }>;
  /** The section's figures as the terminal showed them. */
  readonly figures?: readonly Figure[];
}

export interface BenchPage {
  /** @default "ums-edge benchmarks" */
  readonly title?: string;
  readonly generatedAt: string;
  readonly machine: string;
  readonly quick: boolean;
  readonly targets: readonly TargetRow[];
  readonly sections: readonly Section[];
}

const verdictClass = (v: TargetRow["verdict"]) => (v === "met" ? "pass" : v === "MISSED" ? "fail" : v === "not measured" ? "skipped" : "na");

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, caption?: string): string {
  return (
    `<table class="figures">${caption ? `<caption>${escapeXml(caption)}</caption>` : ""}<thead><tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`
  );
}

function figuresTable(figures: readonly Figure[], quick: boolean): string {
  const rows = figures.map((f) => {
    const verdict = verdictOf(f, quick);
    return `<tr><td>${escapeXml(f.name)}</td><td>${escapeXml(formatValue(f))}</td><td>${escapeXml(targetText(f))}</td><td class="verdict ${verdict ? verdictClass(verdict) : ""}">${escapeXml(verdict ?? "")}</td></tr>`;
  });
  return `<table class="figures"><thead><tr><th>figure</th><th>measured</th><th>target</th><th></th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export function renderBenchHtml(page: BenchPage): string {
  const met = page.targets.filter((t) => t.verdict === "met").length;
  const missed = page.targets.filter((t) => t.verdict === "MISSED").length;
  const unmeasured = page.targets.filter((t) => t.verdict === "not measured").length;
  const notAsserted = page.targets.filter((t) => t.verdict === "n/a").length;
  const targets =
    `<table class="figures"><thead><tr><th>target</th><th>measured</th><th>target</th><th>verdict</th><th>note</th></tr></thead><tbody>` +
    page.targets
      .map(
        (t) =>
          `<tr><td>${escapeXml(t.name)}</td><td>${escapeXml(t.measured)}</td><td>${escapeXml(t.target)}</td><td class="verdict ${verdictClass(t.verdict)}" data-verdict="${escapeXml(t.verdict)}">${escapeXml(t.verdict)}</td><td>${escapeXml(t.note ?? "")}</td></tr>`,
      )
      .join("") +
    `</tbody></table>`;
  const sections = page.sections
    .map(
      (s) =>
        `<section id="${escapeXml(s.id)}"><h2>${escapeXml(s.title)}</h2>` +
        (s.notes ?? []).map((n) => `<p class="note">${escapeXml(n)}</p>`).join("") +
        (s.charts && s.charts.length > 0 ? `<div class="charts">${s.charts.map((c) => barChart({ ...c, width: Math.max(720, Math.min(900, 120 + c.groups.length * 110)) })).join("")}</div>` : "") +
        (s.timeCharts && s.timeCharts.length > 0 ? `<div class="charts">${s.timeCharts.map((c) => lineChart(c)).join("")}</div>` : "") +
        (s.tables ?? []).map((t) => table(t.header, t.rows, t.caption)).join("") +
        (s.figures && s.figures.length > 0 ? `<h3>Figures</h3>${figuresTable(s.figures, page.quick)}` : "") +
        `</section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeXml(page.title ?? "ums-edge benchmarks")}</title><style>${CSS}</style></head>
<body>
<h1>${escapeXml(page.title ?? "ums-edge benchmarks")}${page.quick ? " (quick run)" : ""}</h1>
<div class="meta">generated ${escapeXml(page.generatedAt)} &middot; ${escapeXml(page.machine)}</div>
<div class="summary"><span class="pass">${met} targets met</span><span class="fail">${missed} missed</span><span class="skipped">${unmeasured} not measured</span><span class="na">${notAsserted} n/a (run too small)</span></div>
<h2>Targets</h2>
${targets}
${sections}
</body></html>
`;
}
