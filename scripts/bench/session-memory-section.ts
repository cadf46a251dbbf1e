import { textTable } from "../../simulator/report/text-table";
import type { BenchContext, BenchOutcome } from "./context";
import { publish } from "./context";
import { round1, targetRow, Figure, TargetRow } from "./figures";
import { measureSessionMemory, ProcessGroupMemory, SessionMemoryResult } from "./session-memory";
import { openFilesLimit } from "./process-tree";
import { TARGETS, MemorySettings } from "./plan";
import { say } from "./progress";

/**
 * The held-sessions memory bench, and its target (issue 5): 10,000 device sessions held through
 * the ALB emulator in under 2 GiB in total (fleet processes + ALB emulator + UMS). The target is
 * missed today (~3.2 GiB; another issue covers the memory): the figure says so, it is not bent.
 */

const TARGET_NAME = `${TARGETS.memorySessions.toLocaleString("en")} device sessions held through the ALB emulator, total memory`;

interface Component {
  readonly name: string;
  readonly processes: number;
  readonly idleRssMiB: number;
  readonly heldRssMiB: number;
  readonly peakMiB: number;
}

/** The process groups by component: the fleet processes added up into one. */
export function byComponent(groups: readonly ProcessGroupMemory[]): Component[] {
  const out = new Map<string, Component>();
  for (const g of groups) {
    const name = g.name.startsWith("fleet") ? "fleets" : g.name;
    const c = out.get(name) ?? { name, processes: 0, idleRssMiB: 0, heldRssMiB: 0, peakMiB: 0 };
    out.set(name, { name, processes: c.processes + g.processes, idleRssMiB: c.idleRssMiB + g.idleRssMiB, heldRssMiB: c.heldRssMiB + g.heldRssMiB, peakMiB: c.peakMiB + g.peakMiB });
  }
  return [...out.values()];
}

/** Where the memory of a held session goes, in words. */
function memoryNote(r: SessionMemoryResult): string {
  const groups = r.groups!;
  const of = (n: string) => groups.filter((x) => x.name.startsWith(n));
  const perSession = (list: readonly ProcessGroupMemory[]) => Math.round((list.reduce((a, x) => a + x.heldRssMiB - x.idleRssMiB, 0) * 1024) / r.sessions);
  const native = (list: readonly ProcessGroupMemory[]) => Math.round((list.reduce((a, x) => a + (x.breakdown?.nativeHeapMiB ?? 0), 0) * 1024) / r.sessions);
  const sum = (k: "nativeHeapMiB" | "anonymousMiB" | "fileMiB") => Math.round(groups.reduce((a, x) => a + (x.breakdown?.[k] ?? 0), 0));
  return (
    `Held, all processes: native heap ${sum("nativeHeapMiB")} MiB, V8 heap and other anonymous memory ${sum("anonymousMiB")} MiB, mapped files (the node binary, shared, counted in every process's RSS) ${sum("fileMiB")} MiB. ` +
    `Per held session (KiB, held − idle): ALB emulator ${perSession(of("alb"))} (of which native heap ~${native(of("alb"))}: two TLS connections, device side and target side), ` +
    `fleet ${perSession(of("fleet"))} (native ~${native(of("fleet"))}: a TLS context and a TLS connection per device), UMS ${perSession(of("ums"))} (native ~${native(of("ums"))}: one TLS connection). ` +
    `Node 20 / OpenSSL 3 keep ~45-60 KiB of native memory per established TLS connection and ~40 KiB per TLS context with a certificate and key; a session crosses four TLS endpoints.`
  );
}

/** A measured run's figures and its target row: the target applies to a run of at least its session count. */
export function memoryFigures(r: SessionMemoryResult, quick: boolean): { figures: Figure[]; row: TargetRow } {
  const targetApplies = r.sessions >= TARGETS.memorySessions;
  const groups = r.groups!;
  const components = byComponent(groups);
  const total: Figure = { name: `${r.sessions} sessions held: total peak (sum of every process's VmHWM)`, value: r.totalPeakMiB!, unit: "MiB", ...(targetApplies ? { max: TARGETS.memoryMiB } : {}) };
  const figures: Figure[] = [
    total,
    { name: "peak per 1,000 held sessions", value: r.perThousandPeakMiB!, unit: "MiB" },
    // The devices are the load generator; what a deployment would run is the ALB and the UMS.
    { name: "of which the emulated infrastructure (ALB emulator + UMS)", value: components.filter((c) => c.name !== "fleets").reduce((a, c) => a + c.peakMiB, 0), unit: "MiB" },
    { name: "total resident while held (sum of VmRSS)", value: r.totalHeldRssMiB!, unit: "MiB" },
    { name: "resident per 1,000 held sessions", value: r.perThousandHeldMiB!, unit: "MiB" },
    { name: "marginal: (held - idle) per 1,000 sessions", value: r.perThousandMarginalMiB!, unit: "MiB" },
    { name: "total PSS while held (shared code counted once)", value: r.totalHeldPssMiB!, unit: "MiB" },
    { name: "sessions up (fleets spawned → all online)", value: round1(r.rampMs! / 1000), unit: "s" },
    ...components.flatMap((c) => [
      { name: `${c.name} (${c.processes} process${c.processes > 1 ? "es" : ""}): peak`, value: c.peakMiB, unit: "MiB" },
      { name: `${c.name}: per 1,000 sessions, held - idle`, value: round1(((c.heldRssMiB - c.idleRssMiB) * 1000) / r.sessions), unit: "MiB" },
    ]),
  ];
  const measured = `${r.totalPeakMiB} MiB for ${r.sessions} sessions (${r.perThousandPeakMiB} MiB per 1,000)`;
  const row: TargetRow = targetApplies
    ? targetRow(total, quick, { name: TARGET_NAME, measured, note: memoryNote(r) })
    : { name: TARGET_NAME, measured, target: `<= ${TARGETS.memoryMiB} MiB`, verdict: "n/a", note: `${r.sessions} sessions: fewer than the target's ${TARGETS.memorySessions.toLocaleString("en")}` };
  return { figures, row };
}

export async function sessionMemoryBench(ctx: BenchContext, s: MemorySettings): Promise<BenchOutcome> {
  say(`session-memory: ${s.sessions} sessions held through alb-verify`);
  const r = await measureSessionMemory(await ctx.lab(), { sessions: s.sessions, holdMs: s.holdMs });
  if (!r.measured) {
    say(`session-memory: not measured: ${r.reason}`);
    publish(ctx, "session-memory", [], { settings: s, result: r });
    return {
      section: { id: "session-memory", title: `Memory of ${s.sessions} held sessions`, notes: [`Not measured: ${r.reason}`] },
      targets: [{ name: TARGET_NAME, measured: "—", target: `<= ${TARGETS.memoryMiB} MiB`, verdict: "not measured", note: r.reason }],
    };
  }
  const { figures, row } = memoryFigures(r, ctx.quick);
  const groups = r.groups!;
  const header = ["process group", "processes", "idle RSS", "held RSS", "peak (VmHWM)", "native heap", "V8 + anon", "files (shared)", "PSS", "CPU s"];
  const dash = (n: number | undefined) => (n === undefined ? "—" : String(n));
  const rows = groups.map((g) => [g.name, String(g.processes), `${g.idleRssMiB}`, `${g.heldRssMiB}`, `${g.peakMiB}`, dash(g.breakdown?.nativeHeapMiB), dash(g.breakdown?.anonymousMiB), dash(g.breakdown?.fileMiB), dash(g.breakdown?.pssMiB), `${g.cpuSeconds}`]);
  process.stdout.write(`\nsession-memory per process group (MiB)\n${textTable(header, rows)}`);
  publish(ctx, "session-memory", figures, { settings: s, result: r });
  return {
    section: {
      id: "session-memory",
      title: `Memory of ${s.sessions} held device sessions (alb-verify)`,
      notes: [
        `${s.sessions} devices onboard and hold their management WebSocket (mTLS to the ALB emulator's verify listener, HTTPS from the ALB to the UMS). The UMS tells devices a ${r.heartbeatMs! / 1000} s heartbeat; the ALB emulator runs ${r.albWorkers} node:cluster workers (every session is two sockets there, and a process may hold at most ${openFilesLimit().hard} descriptors on this machine); devices are spread over ${r.fleets} fleet process(es). Memory is read from /proc/<pid>/status: peak = each process's VmHWM (onboarding included), held = VmRSS after holding every session for ${round1(s.holdMs / 1000)} s; summed over every process of the fleets, the ALB emulator (primary and workers) and the UMS.`,
        memoryNote(r),
      ],
      charts: [
        { title: `Memory per process group, ${s.sessions} sessions`, unit: "MiB", series: ["idle", "held", "peak"], groups: groups.map((g) => ({ label: g.name, values: [g.idleRssMiB, g.heldRssMiB, g.peakMiB] })) },
        {
          title: "Where the held memory is",
          unit: "MiB",
          series: ["native", "V8/anon", "files"],
          groups: groups.map((g) => ({ label: g.name, values: [g.breakdown?.nativeHeapMiB ?? 0, g.breakdown?.anonymousMiB ?? 0, g.breakdown?.fileMiB ?? 0] })),
        },
      ],
      tables: [{ caption: "MiB", header, rows }],
      figures,
    },
    targets: [row],
  };
}
