import { benchPlan, parseOnly, SECTIONS, TARGETS } from "../../scripts/bench/plan";
import { TOPOLOGIES } from "../../simulator/runtime/topologies/definitions";
import { isUserError } from "../../core/errors";

/** What a bench run measures and how big, from its options. */

test("a full run is as big as the targets it is judged by", () => {
  const plan = benchPlan({}, 2);
  expect(plan.quick).toBe(false);
  expect(plan.sections).toEqual([...SECTIONS]);
  expect(plan.fleet).toEqual({ devices: TARGETS.onboardDevices, repeats: 3, topologies: TOPOLOGIES });
  expect(plan.memory.sessions).toBe(TARGETS.memorySessions);
  expect(plan.latency.topologies).toEqual(TOPOLOGIES);
  expect(plan.alb.processCounts).toEqual([1, 2]);
});

test("a quick run is small, and still runs both sides of the ordering it asserts", () => {
  const plan = benchPlan({ quick: true }, 2);
  expect(plan.fleet.devices).toBeLessThan(TARGETS.onboardDevices);
  expect(plan.fleet.repeats).toBe(1);
  expect(plan.memory.sessions).toBeLessThan(TARGETS.memorySessions);
  expect(plan.alb).toMatchObject({ rounds: 1, processCounts: [1] });
  expect(plan.latency.topologies).toEqual(expect.arrayContaining(["icg", "reverse-proxy"]));
});

test("options given win over the quick defaults", () => {
  const plan = benchPlan({ quick: true, devices: 300, sessions: 2000, repeats: 2, latencySamples: 100, workers: 4, duration: 500 }, 2);
  expect(plan.fleet).toMatchObject({ devices: 300, repeats: 2 });
  expect(plan.memory.sessions).toBe(2000);
  expect(plan.latency.samples).toBe(100);
  expect(plan.alb).toMatchObject({ processCounts: [1, 4], durationMs: 500 });
});

describe("--only", () => {
  test("runs the benches named, in the bench's own order", () => {
    expect(parseOnly("latency, synth")).toEqual(["synth", "latency"]);
    expect(benchPlan({ only: "alb" }, 2).sections).toEqual(["alb"]);
  });

  test.each(["fleet,nope", "", " , "])("refuses '%s' with a message naming the flag and the fix", (text) => {
    let error: unknown;
    try {
      parseOnly(text);
    } catch (e) {
      error = e;
    }
    expect(isUserError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^--only: .*\n  fix: list some of synth, alb, fleet, memory, latency/);
  });
});
