import { roundTripOrdering } from "../../scripts/bench/topology-latency-section";
import type { TopologyLatency } from "../../scripts/bench/topology-latency";
import { medianRun, onboardingTarget } from "../../scripts/bench/fleet-scale-section";
import type { FleetScaleResult } from "../../scripts/bench/fleet-scale";
import { byComponent, memoryFigures } from "../../scripts/bench/session-memory-section";
import type { SessionMemoryResult } from "../../scripts/bench/session-memory";
import { medianResult, FrontResult } from "../../scripts/bench/alb";
import { percentiles } from "../../simulator/common/stats";

/** The benches' verdicts from their measurements: the ordering, the onboarding and memory targets, the medians. */

const latency = (topology: "icg" | "reverse-proxy", samples: number[]): TopologyLatency => ({ topology, measured: true, devices: 5, roundTripMs: percentiles(samples), deliveryMs: percentiles(samples) });

describe("icg > reverse-proxy", () => {
  test("holds when the ICG's mean round trip is longer, also in a quick run", () => {
    const o = roundTripOrdering([latency("reverse-proxy", [3, 4, 5]), latency("icg", [6, 7, 8])], "icg", "reverse-proxy", true, "IGEL");
    expect(o.row).toMatchObject({ verdict: "met", target: "icg > reverse-proxy", measured: "icg 7 ms, reverse-proxy 4 ms (mean of 3)" });
    expect(o.figure).toMatchObject({ value: 3, kind: "ordering" });
    expect(o.text).toMatch(/holds$/);
  });

  test("is missed when the means are equal or reversed", () => {
    for (const icg of [[3, 4, 5], [1, 2, 3]]) {
      const o = roundTripOrdering([latency("reverse-proxy", [3, 4, 5]), latency("icg", icg)], "icg", "reverse-proxy", true, "IGEL");
      expect(o.row.verdict).toBe("MISSED");
      expect(o.text).toMatch(/DOES NOT HOLD$/);
    }
  });

  test("is not measured (a failure, not a pass) when a side did not run or recorded nothing", () => {
    const failed: TopologyLatency = { topology: "icg", measured: false, devices: 5, reason: "the topology did not start: port in use" };
    expect(roundTripOrdering([latency("reverse-proxy", [3]), failed], "icg", "reverse-proxy", true, "IGEL").row).toMatchObject({ verdict: "not measured", note: expect.stringContaining("port in use") });
    expect(roundTripOrdering([latency("reverse-proxy", [3])], "icg", "reverse-proxy", false, "IGEL").row.verdict).toBe("not measured");
    expect(roundTripOrdering([latency("reverse-proxy", [3]), latency("icg", [])], "icg", "reverse-proxy", false, "IGEL").row.verdict).toBe("not measured");
  });
});

describe("1,000 devices through alb-verify in under 20 s", () => {
  const run = (totalMs: number, devices = 1000): FleetScaleResult => ({ topology: "alb-verify", measured: true, devices, totalMs, cpuSeconds: { ums: 4, alb: 6, fleet: 8 } });
  const failed: FleetScaleResult = { topology: "alb-verify", measured: false, devices: 1000, reason: "only 990 of 1000 devices came online" };

  test("the median run stands for the topology (nearest rank)", () => {
    expect(medianRun([run(12_000), run(30_000), run(9_000)]).totalMs).toBe(12_000);
    expect(medianRun([run(12_000), failed, run(9_000)]).totalMs).toBe(9_000);
    expect(medianRun([failed])).toBe(failed);
  });

  test.each([
    [[14_000, 25_000, 16_000], false, "met", 16],
    [[21_000, 25_000, 16_000], false, "MISSED", 21],
    [[21_000, 25_000, 16_000], true, "n/a", 21],
  ])("runs %j (quick %s): %s at %s s", (totals, quick, verdict, seconds) => {
    const t = onboardingTarget(
      totals.map((ms) => run(ms)),
      1000,
      quick,
    );
    expect(t.figure).toMatchObject({ value: seconds, max: 20 });
    expect(t.row.verdict).toBe(verdict);
  });

  test("a run with fewer devices than the target's is n/a, and its figure has no target", () => {
    const t = onboardingTarget([run(3000, 100)], 100, false);
    expect(t.figure?.max).toBeUndefined();
    expect(t.row).toMatchObject({ verdict: "n/a", note: expect.stringContaining("fewer than the target's 1,000") });
  });

  test("no measured run is not measured, with the reason", () => {
    expect(onboardingTarget([failed], 1000, false).row).toMatchObject({ verdict: "not measured", note: failed.reason });
  });
});

describe("10,000 held sessions in under 2 GiB", () => {
  const group = (name: string, processes: number, idle: number, held: number, peak: number) => ({ name, processes, idleRssMiB: idle, heldRssMiB: held, peakMiB: peak, cpuSeconds: 1, breakdown: { nativeHeapMiB: held / 2, anonymousMiB: held / 4, fileMiB: 40, pssMiB: held - 20 } });
  // Today's measurement (README): ~3.2 GiB for every process, of which ALB emulator + UMS ~1.9 GiB.
  const result: SessionMemoryResult = {
    measured: true,
    sessions: 10_000,
    heartbeatMs: 30_000,
    albWorkers: 2,
    fleets: 2,
    rampMs: 60_000,
    groups: [group("ums", 1, 70, 700, 720), group("alb", 3, 200, 1150, 1180), group("fleet0", 1, 45, 640, 660), group("fleet1", 1, 45, 640, 660)],
    totalPeakMiB: 3220,
    totalHeldRssMiB: 3130,
    totalHeldPssMiB: 3050,
    perThousandPeakMiB: 322,
    perThousandHeldMiB: 313,
    perThousandMarginalMiB: 277,
  };

  test("the fleet processes add up into one component", () => {
    expect(byComponent(result.groups!)).toEqual([
      { name: "ums", processes: 1, idleRssMiB: 70, heldRssMiB: 700, peakMiB: 720 },
      { name: "alb", processes: 3, idleRssMiB: 200, heldRssMiB: 1150, peakMiB: 1180 },
      { name: "fleets", processes: 2, idleRssMiB: 90, heldRssMiB: 1280, peakMiB: 1320 },
    ]);
  });

  test("today's 3.2 GiB is reported as missed in a full run, with where the memory goes", () => {
    const { figures, row } = memoryFigures(result, false);
    expect(row).toMatchObject({ verdict: "MISSED", measured: "3220 MiB for 10000 sessions (322 MiB per 1,000)", target: "<= 2048 MiB" });
    expect(row.note).toMatch(/^Held, all processes: native heap \d+ MiB/);
    expect(figures).toContainEqual({ name: "of which the emulated infrastructure (ALB emulator + UMS)", value: 1900, unit: "MiB" });
  });

  test("a quick run shows it without asserting it", () => {
    expect(memoryFigures(result, true).row.verdict).toBe("n/a");
    expect(memoryFigures({ ...result, sessions: 200 }, false).row).toMatchObject({ verdict: "n/a", note: "200 sessions: fewer than the target's 10,000" });
  });
});

test("an ALB front's rounds: each figure the median, errors added up", () => {
  const load = (perSecond: number, cpu: number, errors = 0) => ({ perSecond, errors, frontCpuMsPer: cpu, generatorCores: 1 });
  const round = (c: number, r: number, cpu: number, errors = 0): FrontResult => ({ name: "nginx (1 worker)", kind: "nginx", connections: load(c, cpu, errors), requests: load(r, cpu / 10) });
  const m = medianResult([round(100, 5000, 3, 1), round(300, 4000, 2), round(200, 6000, 4, 2)]);
  expect(m.connections).toEqual({ perSecond: 200, errors: 3, frontCpuMsPer: 3, generatorCores: 1 });
  expect(m.requests.perSecond).toBe(5000);
});
