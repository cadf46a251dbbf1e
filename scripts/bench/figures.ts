import { textTable } from "../../simulator/report/text-table";

/**
 * Benchmark figures, their targets and verdicts. Two kinds of target:
 * - an ordering compares two measurements taken side by side under the same load (the ICG's round
 *   trip is longer than the reverse proxy's); it holds on a slow machine too, so every run asserts it;
 * - a scale target is a speed or size (1,000 devices in under 20 s, 10,000 sessions in 2 GiB); a
 *   `--quick` run is too small for it and a shared CI machine too slow, so only full runs assert it;
 * - a correctness target (no command lost) holds at any size: every run asserts it.
 */

export type TargetKind = "ordering" | "scale" | "correctness";

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The figure passes when `value <= max` (and `value >= min`). */
  readonly max?: number;
  readonly min?: number;
  /** @default "scale" */
  readonly kind?: TargetKind;
}

/** `n/a`: the run was too small for the target (`--quick`, or fewer devices than the target names). */
export type Verdict = "met" | "MISSED" | "n/a" | "not measured";

export function hasTarget(f: Figure): boolean {
  return f.max !== undefined || f.min !== undefined;
}

/** The verdict of a figure with a target; undefined without one. */
export function verdictOf(f: Figure, quick: boolean): Verdict | undefined {
  if (!hasTarget(f)) return undefined;
  if (quick && (f.kind ?? "scale") === "scale") return "n/a";
  const ok = Number.isFinite(f.value) && (f.max === undefined || f.value <= f.max) && (f.min === undefined || f.value >= f.min);
  return ok ? "met" : "MISSED";
}

export function targetText(f: Figure): string {
  const bounds = [f.min !== undefined ? `>= ${f.min}` : "", f.max !== undefined ? `<= ${f.max}` : ""].filter(Boolean);
  return bounds.length > 0 ? `${bounds.join(" and ")} ${f.unit}` : "";
}

export function formatValue(f: Figure): string {
  return `${Number.isInteger(f.value) ? f.value : Number.isFinite(f.value) ? f.value.toFixed(2) : "—"} ${f.unit}`;
}

/** A figure table for the terminal and the CI log. */
export function figuresText(title: string, figures: readonly Figure[], quick: boolean): string {
  const rows = figures.map((f) => [f.name, formatValue(f), targetText(f), verdictOf(f, quick) ?? ""]);
  return `\n${title}\n${textTable(["figure", "measured", "target", "verdict"], rows)}`;
}

/** One target of the run and its verdict, for the summary. */
export interface TargetRow {
  readonly name: string;
  readonly measured: string;
  readonly target: string;
  readonly verdict: Verdict;
  readonly note?: string;
}

/** The target row of a figure that has a target; `overrides` give it a name, text or note of its own. */
export function targetRow(f: Figure, quick: boolean, overrides: Partial<Pick<TargetRow, "name" | "measured" | "note">> = {}): TargetRow {
  const verdict = verdictOf(f, quick);
  if (!verdict) throw new Error(`figure '${f.name}' has no target`);
  const note = [verdict === "n/a" ? "a --quick run: its scale targets are not asserted" : "", overrides.note ?? ""].filter(Boolean).join("; ");
  return { name: overrides.name ?? f.name, measured: overrides.measured ?? formatValue(f), target: targetText(f), verdict, ...(note ? { note } : {}) };
}

/** What fails the run: a missed target, or one that could not be measured (the bench itself went wrong). */
export function failedTargets(rows: readonly TargetRow[]): TargetRow[] {
  return rows.filter((t) => t.verdict === "MISSED" || t.verdict === "not measured");
}

export const round1 = (n: number) => Math.round(n * 10) / 10;
export const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * `slower > faster` as a figure: the difference of the two means, which must be at least 0.01 (the
 * means are rounded to 0.01 ms, so any real difference is at least that).
 */
export function orderingFigure(name: string, slower: number, faster: number, unit: string): Figure {
  return { name, value: round2(slower - faster), unit, min: 0.01, kind: "ordering" };
}
