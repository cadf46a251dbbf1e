import { CommandLedger, LedgerSummary } from "../../scripts/soak/command-ledger";
import { restartSchedule, soakPlan } from "../../scripts/soak/soak-plan";
import { soakVerdict } from "../../scripts/soak/soak-run";
import type { Recovery } from "../../scripts/soak/soak-harness";
import { lineChart } from "../../simulator/report/svg-chart";
import { isUserError } from "../../core/errors";

/** The soak's parts that decide its verdict: the schedule, the ledger, the verdict rows, the timeline chart. */

describe("schedule", () => {
  test("a 30-minute run restarts the UMS every 5 minutes and the front every 7", () => {
    const plan = soakPlan({ minutes: 30, devices: 1000, topology: "alb-verify" });
    expect(plan).toMatchObject({ scale: 1, umsEveryS: 300, frontEveryS: 420, commandsPerSecond: 50, offlineAtUmsRestart: 50 });
    expect(plan.restarts.filter((r) => r.target === "ums").map((r) => r.at)).toEqual([300, 600, 900, 1200, 1500]);
    expect(plan.restarts.filter((r) => r.target === "front").map((r) => r.at)).toEqual([420, 840, 1260, 1680]);
  });

  test("a 2-minute run scales both intervals by 2/30 (20 s and 28 s), not the 30 s bound, and leaves time to come back", () => {
    const plan = soakPlan({ minutes: 2, devices: 100 });
    expect(plan).toMatchObject({ topology: "alb-verify", umsEveryS: 20, frontEveryS: 28, commandsPerSecond: 5, offlineAtUmsRestart: 5 });
    expect(plan.restarts).toEqual([
      { at: 20, target: "ums" },
      { at: 28, target: "front" },
      { at: 40, target: "ums" },
      { at: 56, target: "front" },
      { at: 60, target: "ums" },
      { at: 80, target: "ums" },
      { at: 84, target: "front" },
    ]);
  });

  test("an HA topology also has a UMS server killed every 10 minutes, the first 2.5 minutes in (scaled like the restarts)", () => {
    const full = soakPlan({ minutes: 30, topology: "alb-verify-ha" });
    expect(full.restarts.filter((r) => r.target === "ums-server").map((r) => r.at)).toEqual([150, 750, 1350]);
    expect(full.restarts.filter((r) => r.target === "ums")).toHaveLength(5);
    const short = soakPlan({ minutes: 2, topology: "alb-passthrough-ha" });
    expect(short.restarts.filter((r) => r.target === "ums-server").map((r) => r.at)).toEqual([10, 50, 90]);
    expect(soakPlan({ minutes: 30, topology: "alb-verify" }).restarts.some((r) => r.target === "ums-server")).toBe(false);
  });

  test("the direct topology has no front to restart", () => {
    expect(restartSchedule(120, { umsEveryS: 20 }).every((r) => r.target === "ums")).toBe(true);
    expect(soakPlan({ minutes: 2, topology: "direct" }).restarts.every((r) => r.target === "ums")).toBe(true);
  });

  test.each([
    ["nope", /^--topology: 'nope' is not a topology\n  fix: use one of direct, /],
    ["reverse-proxy", /nginx is not one of the processes it can restart\n  fix: use alb-verify/],
  ])("--topology %s is refused with the fix", (topology, message) => {
    let error: unknown;
    try {
      soakPlan({ topology });
    } catch (e) {
      error = e;
    }
    expect(isUserError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});

describe("ledger", () => {
  test("an accepted command no device executed is lost; one executed twice is duplicated; a redelivery answered from memory is neither", () => {
    const ledger = new CommandLedger();
    ["a", "b", "c", "d"].forEach((id, i) => ledger.accept(id, i + 0.5));
    const exec = (commandId: string) => ledger.onDeviceEvent({ type: "command", unitId: "u1", commandId, command: "settings2tc", status: "ok", detail: "" });
    exec("a");
    exec("b");
    exec("b");
    exec("d");
    ledger.onDeviceEvent({ type: "duplicate-command", unitId: "u1", commandId: "d", command: "settings2tc" });
    // Executed, but never accepted (the IMI answer was lost): not the ledger's to count.
    exec("z");
    ledger.refusedCall();
    expect(ledger.outstanding).toBe(1);
    expect(ledger.summary()).toEqual({ issued: 4, executed: 3, lost: 1, duplicated: 1, redelivered: 1, refusedCalls: 1, lostSample: ["c"], lostAcceptedAt: [2.5], duplicatedSample: ["b"] });
  });
});

describe("verdict", () => {
  const recovery = (backMs: number): Recovery => ({ component: "ums", at: 20, restartMs: 800, backMs, dropped: 95, switchedOff: 5, peakAttemptsPerSecond: 60 });
  const clean: LedgerSummary = { issued: 100, executed: 100, lost: 0, duplicated: 0, redelivered: 2, refusedCalls: 3, lostSample: [], lostAcceptedAt: [], duplicatedSample: [] };

  test("passes with nothing lost or duplicated and every device back within 30 s", () => {
    expect(soakVerdict(clean, [recovery(4000), recovery(29_000)], 100, 0).map((v) => v.verdict)).toEqual(["met", "met", "met", "met"]);
  });

  test("fails on a lost command, a duplicated one, a device back after 30 s or never, and on a run where nothing flowed", () => {
    const verdicts = (ledger: typeof clean, backMs: number) => soakVerdict(ledger, [recovery(backMs)], 100, 0).map((v) => v.verdict);
    expect(verdicts({ ...clean, lost: 1, executed: 99, lostSample: ["x"] }, 1000)[0]).toBe("MISSED");
    expect(verdicts({ ...clean, duplicated: 1 }, 1000)[1]).toBe("MISSED");
    expect(verdicts(clean, 30_001)[2]).toBe("MISSED");
    expect(verdicts(clean, Infinity)[2]).toBe("MISSED");
    expect(verdicts({ ...clean, issued: 0, executed: 0 }, 1000)[0]).toBe("MISSED");
    expect(soakVerdict(clean, [], 100, 0)[2].verdict).toBe("MISSED");
  });
});

test("the timeline chart draws each series as a path and each restart as a labelled vertical line", () => {
  const svg = lineChart({
    title: "devices online",
    unit: "devices",
    xUnit: "s",
    series: [{ name: "online", points: [[0, 0], [1, 100], [2, 40], [3, 100]] }],
    markers: [{ at: 1.5, label: "ums restart" }, { at: 2.5, label: "alb restart" }],
  });
  expect(svg.match(/<path /g)).toHaveLength(1);
  expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
  expect(svg).toContain("<title>ums restart at 1.5 s</title>");
  expect(svg).toContain(">alb restart</text>");
});
