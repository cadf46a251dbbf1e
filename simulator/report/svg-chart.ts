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

/** The opening of a chart: the svg element, its title, and the y axis's grid lines and ticks (0 to `max` in four steps). */
function chartFrame(o: { title: string; unit: string }, box: { width: number; height: number; left: number; right: number }, max: number, y: (v: number) => number): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 ${box.width} ${box.height}" width="${box.width}" height="${box.height}">`,
    `<title>${escapeXml(o.title)}</title>`,
    `<text x="${box.left}" y="18" class="chart-title">${escapeXml(o.title)} (${escapeXml(o.unit)})</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    parts.push(`<line x1="${box.left}" x2="${box.width - box.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${box.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="tick">${+v.toFixed(2)}</text>`);
  }
  return parts;
}

/** The plot area of a chart: the same side margins (the y axis' ticks), the top and bottom its own. */
function plotBox(width: number, height: number, top: number, bottom: number) {
  const left = 56;
  const right = 12;
  return { width, height, left, right, top, bottom, plotW: width - left - right, plotH: height - top - bottom };
}

export function barChart(o: BarChartOptions): string {
  const box = plotBox(o.width ?? 720, o.height ?? 260, 36, 44);
  const { width, height, left, right, top, bottom, plotW, plotH } = box;
  const max = niceMax(Math.max(0, ...o.groups.flatMap((g) => g.values)));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const groupW = plotW / Math.max(1, o.groups.length);
  const barW = Math.max(4, (groupW * 0.75) / Math.max(1, o.series.length));
  const parts = chartFrame(o, box, max, y);
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

/** One line of a time chart: (x, y) points in x order. */
export interface LineSeries {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** A vertical line across a time chart at `at` (x units), labelled (e.g. "UMS restart"). */
export interface ChartMarker {
  readonly at: number;
  readonly label: string;
}

export interface LineChartOptions {
  readonly title: string;
  /** Unit of the y axis. */
  readonly unit: string;
  /** Unit of the x axis, e.g. "s". */
  readonly xUnit: string;
  readonly series: readonly LineSeries[];
  readonly markers?: readonly ChartMarker[];
  /** @default 900 */
  readonly width?: number;
  /** @default 260 */
  readonly height?: number;
}

const MARKER_COLOURS = ["#b07aa1", "#9c755f", "#edc948"];

/** Lines over time (a soak's timeline, a reconnect storm), with events marked as vertical lines. */
export function lineChart(o: LineChartOptions): string {
  const box = plotBox(o.width ?? 900, o.height ?? 260, 46, 40);
  const { height, left, top, bottom, plotW, plotH } = box;
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0])).concat((o.markers ?? []).map((m) => m.at));
  const xMin = Math.min(0, ...xs);
  const xMax = niceMax(Math.max(xMin + 1, ...xs) - xMin) + xMin;
  const yMax = niceMax(Math.max(0, ...o.series.flatMap((s) => s.points.map((p) => p[1]))));
  const x = (v: number) => left + ((v - xMin) / (xMax - xMin)) * plotW;
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const parts = chartFrame(o, box, yMax, y);
  for (let i = 0; i <= 5; i++) {
    const v = xMin + ((xMax - xMin) / 5) * i;
    parts.push(`<text x="${x(v).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" class="tick">${+v.toFixed(1)} ${escapeXml(o.xUnit)}</text>`);
  }
  const kinds = [...new Set((o.markers ?? []).map((m) => m.label))];
  for (const m of o.markers ?? []) {
    const colour = MARKER_COLOURS[kinds.indexOf(m.label) % MARKER_COLOURS.length];
    parts.push(`<line x1="${x(m.at).toFixed(1)}" x2="${x(m.at).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="${colour}" stroke-dasharray="4 3"><title>${escapeXml(`${m.label} at ${m.at} ${o.xUnit}`)}</title></line>`);
  }
  o.series.forEach((s, si) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    parts.push(`<path d="${d}" fill="none" stroke="${COLOURS[si % COLOURS.length]}" stroke-width="1.5"><title>${escapeXml(s.name)}</title></path>`);
  });
  const legend = [...o.series.map((s, si) => ({ name: s.name, colour: COLOURS[si % COLOURS.length], dashed: false })), ...kinds.map((k, ki) => ({ name: k, colour: MARKER_COLOURS[ki % MARKER_COLOURS.length], dashed: true }))];
  // The legend on its own line under the title, left to right.
  let lx = left;
  for (const l of legend) {
    parts.push(`<rect x="${lx}" y="25" width="10" height="10" fill="${l.colour}"${l.dashed ? ' opacity="0.6"' : ""}/><text x="${lx + 14}" y="34" class="tick">${escapeXml(l.name)}</text>`);
    lx += 24 + l.name.length * 6;
  }
  parts.push("</svg>");
  return parts.join("");
}
