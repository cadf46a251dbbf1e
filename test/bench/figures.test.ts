import { failedTargets, figuresText, orderingFigure, targetRow, targetText, verdictOf, Figure, TargetRow } from "../../scripts/bench/figures";

/** Verdicts: a --quick run asserts the orderings only; a full run asserts every target. */

const scale: Figure = { name: "alb-verify: 1000 devices onboarded and commanded", value: 25, unit: "s", max: 20 };
const ordering: Figure = { name: "icg - reverse-proxy", value: -0.5, unit: "ms", min: 0.01, kind: "ordering" };

describe("verdictOf", () => {
  test.each<[string, Figure, boolean, ReturnType<typeof verdictOf>]>([
    ["a missed scale target in a full run", scale, false, "MISSED"],
    ["a missed scale target in a quick run", scale, true, "n/a"],
    ["a met scale target at its bound", { ...scale, value: 20 }, false, "met"],
    ["a missed ordering in a quick run", ordering, true, "MISSED"],
    ["a held ordering in a quick run", { ...ordering, value: 0.01 }, true, "met"],
    ["a value that is not a number", { ...scale, value: NaN }, false, "MISSED"],
    ["both bounds, below the lower", { name: "ratio", value: 0.4, unit: "x", min: 0.5, max: 2 }, false, "MISSED"],
    ["a figure without a target", { name: "p50", value: 3, unit: "ms" }, false, undefined],
  ])("%s", (_what, figure, quick, verdict) => {
    expect(verdictOf(figure, quick)).toBe(verdict);
  });
});

test("targetText names the bounds with the unit", () => {
  expect(targetText(scale)).toBe("<= 20 s");
  expect(targetText({ name: "r", value: 1, unit: "x", min: 0.5 })).toBe(">= 0.5 x");
  expect(targetText({ name: "r", value: 1, unit: "x" })).toBe("");
});

describe("orderingFigure", () => {
  test.each([
    [7.3, 3.83, 3.47, "met"],
    [3.84, 3.83, 0.01, "met"],
    [3.83, 3.83, 0, "MISSED"],
    [3.5, 3.83, -0.33, "MISSED"],
  ])("%s ms > %s ms: difference %s, %s", (slower, faster, difference, verdict) => {
    const f = orderingFigure("icg - reverse-proxy", slower, faster, "ms");
    expect(f.value).toBe(difference);
    expect(verdictOf(f, true)).toBe(verdict);
  });
});

describe("target rows", () => {
  test("a scale target in a quick run is n/a and says why", () => {
    expect(targetRow(scale, true, { note: "CPU 12 s" })).toEqual({ name: scale.name, measured: "25 s", target: "<= 20 s", verdict: "n/a", note: "a --quick run: its scale targets are not asserted; CPU 12 s" });
  });

  test("a figure without a target has no row", () => {
    expect(() => targetRow({ name: "p50", value: 3, unit: "ms" }, false)).toThrow(/has no target/);
  });

  test("what fails a run: missed and not measured, not met or n/a", () => {
    const rows: TargetRow[] = (["met", "MISSED", "n/a", "not measured"] as const).map((verdict) => ({ name: verdict, measured: "", target: "", verdict }));
    expect(failedTargets(rows).map((r) => r.name)).toEqual(["MISSED", "not measured"]);
  });
});

test("figuresText prints each figure with its target and verdict", () => {
  const text = figuresText("fleet-scale", [scale, ordering, { name: "p50", value: 2.5, unit: "ms" }], false);
  const lines = text.split("\n");
  expect(lines[1]).toBe("fleet-scale");
  expect(lines.find((l) => l.startsWith(scale.name))).toMatch(/25 s\s+<= 20 s\s+MISSED$/);
  expect(lines.find((l) => l.startsWith("p50"))).toMatch(/2\.50 ms$/);
});
