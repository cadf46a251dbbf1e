#!/usr/bin/env node
/**
 * One front's held-session memory, alone (after `npm run build`): what each memory step was measured
 * with, faster than the whole memory bench (which holds the sessions through both fronts).
 *
 *   node dist/scripts/bench/session-memory-probe.js [alb|nginx] [sessions] [hold ms]
 *
 * Prints the process groups and the slopes as JSON; writes no report.
 */
import { prepareBenchLab } from "./bench-topology";
import { measureSessionMemory, slopeKiB, SessionFront } from "./session-memory";

async function main(): Promise<void> {
  const [front = "alb", sessions = "1000", holdMs = "5000"] = process.argv.slice(2);
  if (front !== "alb" && front !== "nginx") throw new Error(`front: '${front}' is not alb or nginx`);
  const lab = await prepareBenchLab(64);
  const r = await measureSessionMemory(lab, { sessions: Number(sessions), holdMs: Number(holdMs), front: front as SessionFront });
  if (!r.measured) throw new Error(`not measured: ${r.reason}`);
  const groups = r.groups!.map((g) => ({ ...g, perSessionKiB: slopeKiB([g], r.sessions) }));
  process.stdout.write(
    JSON.stringify({ front, sessions: r.sessions, frontPerSessionKiB: r.frontPerSessionKiB, perSessionKiB: r.perSessionKiB, totalPeakMiB: r.totalPeakMiB, totalIdleRssMiB: r.totalIdleRssMiB, totalHeldRssMiB: r.totalHeldRssMiB, rampMs: r.rampMs, groups }, null, 1) + "\n",
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
