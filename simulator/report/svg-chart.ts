/**
 * Grouped bar charts as inline SVG: the HTML report stays one self-contained file with no script,
 * readable offline and in any browser.
 */

export interface BarGroup {
  /** Label under the group (a topology). */
  readonly label: string;
  /** One bar per series, in series order. */
  readonly values: readonly number[];
}

export interface BarChartOptions {
  readonly title: string;
  readonly unit: string;
  /** Names of the bars within a group, e.g. p50, p95, p99. */
  readonly series: readonly string[];
  readonly groups: readonly BarGroup[];
  /** @default 720 */
  readonly width?: number;
  /** @default 260 */
  readonly height?: number;
}

const COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f"];

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least `value`. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= value)!;
}

export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 260;
  const left = 56;
  const right = 12;
  const top = 36;
  const bottom = 44;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(0, ...o.groups.flatMap((g) => g.values)));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const groupW = plotW / Math.max(1, o.groups.length);
  const barW = Math.max(4, (groupW * 0.75) / Math.max(1, o.series.length));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`);
  parts.push(`<title>${escapeXml(o.title)}</title>`);
  parts.push(`<text x="${left}" y="18" class="chart-title">${escapeXml(o.title)} (${escapeXml(o.unit)})</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="tick">${+v.toFixed(2)}</text>`);
  }
  o.groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * o.series.length) / 2;
    g.values.forEach((v, si) => {
      const x = x0 + si * barW;
      parts.push(
        `<rect class="bar" x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${COLOURS[si % COLOURS.length]}"><title>${escapeXml(`${g.label} ${o.series[si]}: ${v} ${o.unit}`)}</title></rect>`,
      );
    });
    parts.push(`<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" class="tick">${escapeXml(g.label)}</text>`);
  });
  o.series.forEach((s, si) => {
    const x = width - right - (o.series.length - si) * 64;
    parts.push(`<rect x="${x}" y="8" width="10" height="10" fill="${COLOURS[si % COLOURS.length]}"/><text x="${x + 14}" y="17" class="tick">${escapeXml(s)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}
