import { textTable } from "../../simulator/report/text-table";
import type { BenchContext, BenchOutcome } from "./context";
import { publish } from "./context";
import { targetRow, Figure, TargetRow } from "./figures";
import type { StormSettings } from "./plan";
import { say, sleep } from "./progress";
import { SoakHarness, Recovery, RestartTarget } from "../soak/soak-harness";
import { lostNote, recoveryTable } from "../soak/soak-run";
import { BACK_WITHIN_MS } from "../soak/soak-plan";

/**
 * Issue 15 §4, reconnect storms: a fleet online through icg-alb-verify (the topology that has all
 * three: the ALB emulator, the ICG behind it, the UMS connecting out to the ICG) with commands
 * flowing; the UMS, the ALB emulator and the ICG restarted one at a time. Figures: the time until
 * every device is back, the peak of new connections per second at the front (the devices'
 * connection attempts: failed ones hit the front too), and commands lost and duplicated. The soak's
 * machinery (scripts/soak/) runs it. Lost and duplicated are asserted in every run (they are not a
 * matter of scale); the 30 s bound only in full runs.
 */

const TOPOLOGY = "icg-alb-verify";
const ORDER: readonly RestartTarget[] = ["ums", "alb", "icg"];

export async function stormBench(ctx: BenchContext, s: StormSettings): Promise<BenchOutcome> {
  say(`storm: ${s.devices} devices on ${TOPOLOGY}, ${s.commandsPerSecond} commands/s; restarting ${ORDER.join(", ")} one at a time, ${s.settleMs / 1000} s apart`);
  const harness = await SoakHarness.start(await ctx.lab(), { topology: TOPOLOGY, devices: s.devices, commandsPerSecond: s.commandsPerSecond, backoff: { initialMs: 1000, maxMs: s.backoffMaxMs }, heartbeatMs: 10_000 });
  let recoveries: Recovery[];
  try {
    harness.startCommands(s.commandsPerSecond);
    await sleep(s.settleMs);
    for (const target of ORDER) {
      const r = await harness.restart(target, 120_000);
      say(`  ${r.component} restarted in ${r.restartMs} ms: ${r.dropped} devices dropped, all back after ${Number.isFinite(r.backMs) ? `${(r.backMs / 1000).toFixed(1)} s` : "— not within 120 s"}`);
      await sleep(s.settleMs);
    }
    await harness.stopCommands();
    await harness.drain(30_000);
    harness.recorder.stop();
    harness.finishRecoveries();
    recoveries = [...harness.recoveries];
  } finally {
    await harness.stop();
  }
  const ledger = harness.ledger.summary();
  const points = harness.recorder.points;
  const marks = harness.recorder.marks.filter((m) => m.label.endsWith("restart"));
  const figures: Figure[] = [
    ...recoveries.flatMap((r): Figure[] => [
      { name: `${r.component} restart: every device back after`, value: Number.isFinite(r.backMs) ? r.backMs / 1000 : Infinity, unit: "s", max: BACK_WITHIN_MS / 1000 },
      { name: `${r.component} restart: peak new connections per second at the front`, value: r.peakAttemptsPerSecond, unit: "connections/s" },
      { name: `${r.component} restart: devices dropped`, value: r.dropped, unit: "devices" },
    ]),
    { name: "commands accepted by the UMS", value: ledger.issued, unit: "commands" },
    { name: "commands lost", value: ledger.lost, unit: "commands", max: 0, kind: "correctness" },
    { name: "commands duplicated (executed twice)", value: ledger.duplicated, unit: "commands", max: 0, kind: "correctness" },
    { name: "redeliveries answered by devices without executing", value: ledger.redelivered, unit: "deliveries" },
  ];
  const full = s.devices >= s.goalDevices;
  const targets: TargetRow[] = figures
    .filter((f) => f.max !== undefined)
    .map((f) => targetRow(f, ctx.quick || (!full && (f.kind ?? "scale") === "scale"), { note: !full && (f.kind ?? "scale") === "scale" ? `${s.devices} devices: not the issue's ${s.goalDevices}` : undefined }));
  const { header, rows } = recoveryTable(recoveries);
  process.stdout.write(`\nstorm restarts\n${textTable(header, rows)}`);
  const lost = lostNote(ledger, recoveries);
  if (lost) say(lost);
  publish(ctx, "storm", figures, { settings: s, topology: TOPOLOGY, recoveries, ledger, timeline: points, marks });
  return {
    section: {
      id: "storm",
      title: `Reconnect storms: the UMS, the ALB emulator and the ICG restarted one at a time (${s.devices} devices, ${TOPOLOGY})`,
      notes: [
        `${s.devices} devices online through ${TOPOLOGY} on the loopback runtime, ${s.commandsPerSecond} settings pushes per second through the IMI API; each component in turn stopped (SIGTERM) and started again on the same port, ${s.settleMs / 1000} s apart. Devices reconnect with exponential backoff and equal jitter from 1 s to ${s.backoffMaxMs / 1000} s.`,
        "New connections per second at the front: the devices' connection attempts (TCP + TLS to the ALB), failed ones included, per second of the run.",
        `Commands: ${ledger.issued} accepted, ${ledger.executed} executed, ${ledger.lost} lost, ${ledger.duplicated} executed twice, ${ledger.redelivered} redeliveries answered from the device's memory, ${ledger.refusedCalls} IMI calls refused during restarts (never accepted).`,
        ...(lostNote(ledger, recoveries) ? [lostNote(ledger, recoveries)!] : []),
        `The issue's goal is ${s.goalDevices} devices; one 2-core machine runs the devices, the ALB emulator, the ICG and the UMS together, so a run with fewer says so in its targets.`,
      ],
      timeCharts: [
        {
          title: "new connections per second at the front",
          unit: "connections/s",
          xUnit: "s",
          series: [
            { name: "connection attempts", points: points.map((p) => [p.t, p.attempts] as const) },
            { name: "sessions established", points: points.map((p) => [p.t, p.sessions] as const) },
          ],
          markers: marks.map((m) => ({ at: m.t, label: m.label })),
        },
        { title: "devices online", unit: "devices", xUnit: "s", series: [{ name: "online", points: points.map((p) => [p.t, p.online] as const) }], markers: marks.map((m) => ({ at: m.t, label: m.label })) },
      ],
      tables: [{ caption: "restarts", header, rows }],
      figures,
    },
    targets,
  };
}
