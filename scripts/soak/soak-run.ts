import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../../core/errors";
import { projectRoot } from "../../core/project-root";
import { textTable } from "../../simulator/report/text-table";
import type { LineChartOptions } from "../../simulator/report/svg-chart";
import { renderBenchHtml, Section } from "../bench/bench-html";
import type { TargetRow } from "../bench/figures";
import { prepareBenchLab } from "../bench/bench-topology";
import { CORES, loadAverage, say, sleep, status } from "../bench/progress";
import { SoakHarness, Recovery } from "./soak-harness";
import type { LedgerSummary } from "./command-ledger";
import type { TimelineMark, TimelinePoint } from "./fleet-recorder";
import { BACK_WITHIN_MS, SoakPlan } from "./soak-plan";

/**
 * `npm run soak`: devices online with commands flowing for the planned minutes, the UMS and the
 * front restarted on schedule, then the commands drained and the verdict: no command lost, none
 * duplicated, every device back within 30 s of each restart. Writes soak.json and soak.html (the
 * timeline); a failed verdict is exit code 1.
 */

/** After the run, how long accepted commands may take to reach their devices. */
const DRAIN_MS = 30_000;

export interface SoakResult {
  readonly plan: SoakPlan;
  readonly wallSeconds: number;
  readonly ledger: LedgerSummary;
  readonly recoveries: readonly Recovery[];
  readonly points: readonly TimelinePoint[];
  readonly marks: readonly TimelineMark[];
  readonly verdict: readonly TargetRow[];
  readonly passed: boolean;
}

export function soakVerdict(ledger: LedgerSummary, recoveries: readonly Recovery[], devices: number, failedDevices: number): TargetRow[] {
  const slowest = recoveries.reduce((m, r) => Math.max(m, r.backMs), 0);
  const row = (name: string, measured: string, target: string, ok: boolean, note?: string): TargetRow => ({ name, measured, target, verdict: ok ? "met" : "MISSED", ...(note ? { note } : {}) });
  return [
    row("commands lost", `${ledger.lost} of ${ledger.issued}`, "0", ledger.lost === 0 && ledger.issued > 0, ledger.issued === 0 ? "no command was accepted: nothing flowed" : ledger.lost > 0 ? `accepted by the UMS, never executed by a device (e.g. ${ledger.lostSample.join(", ")})` : undefined),
    row("commands duplicated", `${ledger.duplicated}`, "0", ledger.duplicated === 0, `executed twice; ${ledger.redelivered} deliveries of an already executed command were answered from the device's memory, not executed`),
    row(
      "every device back after each restart",
      recoveries.length === 0 ? "no restart" : `slowest ${Number.isFinite(slowest) ? `${(slowest / 1000).toFixed(1)} s` : "not back"} over ${recoveries.length} restarts`,
      `<= ${BACK_WITHIN_MS / 1000} s`,
      recoveries.length > 0 && slowest <= BACK_WITHIN_MS,
    ),
    row("devices given up", `${failedDevices} of ${devices}`, "0", failedDevices === 0),
  ];
}

function charts(points: readonly TimelinePoint[], marks: readonly TimelineMark[]): LineChartOptions[] {
  const restarts = marks.filter((m) => m.label.endsWith("restart") || m.label.endsWith("killed"));
  const line = (name: string, f: (p: TimelinePoint) => number) => ({ name, points: points.map((p) => [p.t, f(p)] as const) });
  return [
    { title: "devices online", unit: "devices", xUnit: "s", series: [line("online", (p) => p.online)], markers: restarts.map((m) => ({ at: m.t, label: m.label })) },
    { title: "commands per second", unit: "commands/s", xUnit: "s", series: [line("executed by devices", (p) => p.executed), line("accepted by the UMS", (p) => p.issued)], markers: restarts.map((m) => ({ at: m.t, label: m.label })) },
    { title: "new connections per second at the front", unit: "connections/s", xUnit: "s", series: [line("connection attempts", (p) => p.attempts), line("sessions established", (p) => p.sessions)], markers: restarts.map((m) => ({ at: m.t, label: m.label })) },
  ];
}

/** Where the lost commands were accepted, against the restarts: "10 in the 5 s before the ums restart at 135.6 s". */
export function lostNote(ledger: LedgerSummary, recoveries: readonly Recovery[]): string | undefined {
  if (ledger.lost === 0) return undefined;
  const near = recoveries.map((r) => ({ r, n: ledger.lostAcceptedAt.filter((t) => t >= r.at - 5 && t <= r.at + (Number.isFinite(r.backMs) ? r.backMs / 1000 : 120)).length }));
  const counted = near.reduce((a, x) => a + x.n, 0);
  const parts = near.filter((x) => x.n > 0).map((x) => `${x.n} from 5 s before the ${x.r.component} restart at ${x.r.at.toFixed(1)} s until its devices were back${x.r.switchedOff ? ` (${x.r.switchedOff} devices had been switched off with a command queued)` : ""}`);
  const sampled = ledger.lostAcceptedAt.length;
  return `Lost commands, by when the UMS accepted them: ${parts.join("; ") || "none near a restart"}${sampled > counted ? `; ${sampled - counted} elsewhere` : ""}${ledger.lost > sampled ? ` (the first ${sampled} of ${ledger.lost} looked at)` : ""}.`;
}

export function recoveryTable(recoveries: readonly Recovery[]): { header: string[]; rows: string[][] } {
  return {
    header: ["at (s)", "restarted", "stop + start (ms, a kill's wait excluded)", "switched off first", "devices dropped", "all back after (s)", "peak connection attempts/s"],
    rows: recoveries.map((r) => [r.at.toFixed(1), r.component, String(r.restartMs), String(r.switchedOff), String(r.dropped), Number.isFinite(r.backMs) ? (r.backMs / 1000).toFixed(1) : "not back", String(r.peakAttemptsPerSecond)]),
  };
}

export async function runSoak(plan: SoakPlan): Promise<SoakResult> {
  const reportDir = path.resolve(plan.reportDir ?? path.join(projectRoot(), "reports", "soak"));
  say(
    `ums-edge soak: ${plan.minutes} min, ${plan.devices} devices, ${plan.topology}, ${plan.commandsPerSecond} commands/s; UMS restarted every ${plan.umsEveryS.toFixed(1)} s, the front every ${plan.frontEveryS.toFixed(1)} s` +
      `${plan.killEveryS ? `, a UMS server killed every ${plan.killEveryS.toFixed(1)} s` : ""}${plan.scale < 1 ? ` (5, 7${plan.killEveryS ? " and 10" : ""} min scaled by ${plan.minutes}/30)` : ""}; ${plan.restarts.length} restarts; ${CORES} cores, load average ${loadAverage()}`,
  );
  const wall0 = performance.now();
  const bench = await prepareBenchLab(64);
  const harness = await SoakHarness.start(bench, { topology: plan.topology, devices: plan.devices, commandsPerSecond: plan.commandsPerSecond, backoff: { initialMs: 1000, maxMs: plan.backoffMaxMs }, heartbeatMs: 10_000, offlineAtUmsRestart: plan.offlineAtUmsRestart });
  let result: SoakResult;
  try {
    for (const r of plan.restarts) harness.componentOf(r.target);
    const runStart = harness.recorder.now();
    harness.startCommands(plan.commandsPerSecond);
    const end = runStart + plan.minutes * 60;
    for (const r of plan.restarts) {
      const wait = runStart + r.at - harness.recorder.now();
      if (wait > 0) await sleep(wait * 1000);
      const rec = await harness.restart(r.target, 120_000);
      const how = r.target === "ums-server" ? `killed, started again once its devices were back (kill + start ${rec.restartMs} ms)` : `restarted in ${rec.restartMs} ms`;
      say(`  ${rec.at.toFixed(1)} s: ${rec.component} ${how}; ${rec.dropped} devices dropped, all back after ${Number.isFinite(rec.backMs) ? `${(rec.backMs / 1000).toFixed(1)} s` : "— not within 120 s"}; ${harness.ledger.summary().issued} commands accepted so far`);
    }
    while (harness.recorder.now() < end) {
      status(`soak: ${Math.round(end - harness.recorder.now())} s left; ${harness.fleet.onlineCount}/${plan.devices} online`);
      await sleep(Math.min(1000, (end - harness.recorder.now()) * 1000));
    }
    await harness.stopCommands();
    say(`soak: commands stopped; draining ${harness.ledger.outstanding} outstanding (up to ${DRAIN_MS / 1000} s)`);
    await harness.drain(DRAIN_MS);
    harness.recorder.mark("end");
    harness.recorder.stop();
    harness.finishRecoveries();
    const ledger = harness.ledger.summary();
    const failedDevices = harness.fleet.devices.filter((d) => d.state === "failed").length;
    const verdict = soakVerdict(ledger, harness.recoveries, plan.devices, failedDevices);
    result = {
      plan,
      wallSeconds: Math.round((performance.now() - wall0) / 100) / 10,
      ledger,
      recoveries: [...harness.recoveries],
      points: harness.recorder.points,
      marks: harness.recorder.marks,
      verdict,
      passed: verdict.every((v) => v.verdict === "met"),
    };
  } finally {
    await harness.stop();
  }
  writeSoakReport(reportDir, result);
  return result;
}

function writeSoakReport(dir: string, r: SoakResult): void {
  fs.mkdirSync(dir, { recursive: true });
  const { header, rows } = recoveryTable(r.recoveries);
  const notes = [
    `${r.plan.devices} devices on ${r.plan.topology} (loopback runtime) for ${r.plan.minutes} min, ${r.plan.commandsPerSecond} settings pushes per second through the IMI API; wall time ${r.wallSeconds} s with onboarding and drain.`,
    `Restarts: the UMS every ${r.plan.umsEveryS.toFixed(1)} s, the front every ${r.plan.frontEveryS.toFixed(1)} s${r.plan.scale < 1 ? ` (issue 15's 5 and 7 minutes scaled by ${r.plan.minutes}/30, so the run sees as many restarts as the 30-minute one)` : ""}. A restart is SIGTERM, then the same process started again on the same port.` +
      (r.plan.killEveryS ? ` A UMS server of the cluster is killed (SIGKILL, no goodbye) every ${r.plan.killEveryS.toFixed(1)} s: its devices reconnect through the ALB to the other server (the ALB's health checks run at 1/50 of the stack's interval, so the dead target leaves the rotation within seconds; on AWS it takes interval × unhealthy threshold, and until then a reconnect may reach the dead target, get a 502 and back off), and it is started again once every device is back.` : ""),
    `Commands: ${r.ledger.issued} accepted by the UMS, ${r.ledger.executed} executed by devices, ${r.ledger.lost} lost, ${r.ledger.duplicated} executed twice, ${r.ledger.redelivered} redeliveries answered by devices without executing, ${r.ledger.refusedCalls} IMI calls refused while a component restarted (never accepted, so not counted).`,
    `Lost is counted from the devices' side: an exec id the UMS returned that no device executed by the end of the drain. Before each UMS restart ${r.plan.offlineAtUmsRestart} devices are switched off and one command is queued for each; they are switched on once the others are back. A UMS that keeps its command queue in memory loses those commands when it restarts, and the soak counts them lost.`,
    `Devices reconnect with exponential backoff and equal jitter (simulator/common/backoff.ts) from 1 s to ${r.plan.backoffMaxMs / 1000} s.`,
    ...(lostNote(r.ledger, r.recoveries) ? [lostNote(r.ledger, r.recoveries)!] : []),
  ];
  const page = renderBenchHtml({
    title: "ums-edge soak",
    generatedAt: new Date().toISOString(),
    machine: `${CORES} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average at end ${loadAverage()} (a shared machine)`,
    quick: false,
    targets: r.verdict,
    sections: [{ id: "timeline", title: "Timeline", notes, timeCharts: charts(r.points, r.marks), tables: [{ caption: "restarts", header, rows }] } satisfies Section],
  });
  fs.writeFileSync(path.join(dir, "soak.html"), page);
  fs.writeFileSync(path.join(dir, "soak.json"), JSON.stringify({ ...r, measuredAt: new Date().toISOString(), machine: { cores: CORES, node: process.version, loadAverage: loadAverage() } }, null, 2) + "\n");
  process.stdout.write(`\nsoak verdict\n${textTable(["check", "measured", "target", "verdict"], r.verdict.map((v) => [v.name, v.measured, v.target, v.verdict]))}`);
  process.stdout.write(`\nrestarts\n${textTable(header, rows)}`);
  process.stdout.write(`written: ${path.relative(process.cwd(), path.join(dir, "soak.html"))}\n`);
}

/** Throws the exit-code-1 error of a failed verdict. */
export function failOnVerdict(r: SoakResult): void {
  if (r.passed) return;
  const failed = r.verdict.filter((v) => v.verdict !== "met");
  throw new UserError(`soak failed:\n${failed.map((v) => `  - ${v.name}: ${v.measured} (target ${v.target})${v.note ? `\n      ${v.note}` : ""}`).join("\n")}`, 1);
}
