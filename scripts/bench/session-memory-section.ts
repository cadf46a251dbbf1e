import { textTable } from "../../simulator/report/text-table";
import type { BenchContext, BenchOutcome } from "./context";
import { publish } from "./context";
import { round1, round2, targetRow, Figure, TargetRow } from "./figures";
import { measureSessionMemory, slopeKiB, ProcessGroupMemory, SessionFront, SessionMemoryResult } from "./session-memory";
import { openFilesLimit } from "./process-tree";
import { TARGETS, MemorySettings } from "./plan";
import { say } from "./progress";

/**
 * The held-sessions memory bench and its targets (issues 5 and 15 §6): N device sessions held
 * through the ALB emulator, then the same N held through real nginx doing the same job, in the same
 * run. Targets: the whole bench (fleet processes + ALB emulator + UMS) under 2 GiB for 10,000
 * sessions, and the emulator's memory per held session at most 1.5x nginx's. Per-session memory is
 * the slope, (held − idle) / N, never total / N.
 */

const TARGET_NAME = `${TARGETS.memorySessions.toLocaleString("en")} device sessions held through the ALB emulator, total memory`;
const RATIO_NAME = "memory per held session: ALB emulator / nginx (slope, same sessions)";
/** Issue 15 §6: the emulator's per-session memory at most 1.5x nginx's. */
export const FRONT_RATIO_MAX = 1.5;
/** Below this the slope is noise (a few MiB of heap growth divided among few sessions): the ratio is shown, not judged. */
export const RATIO_MIN_SESSIONS = 1000;

const FRONT_LABEL: Readonly<Record<SessionFront, string>> = { alb: "ALB emulator", nginx: "nginx" };

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
  const native = (list: readonly ProcessGroupMemory[]) => Math.round((list.reduce((a, x) => a + (x.breakdown?.nativeHeapMiB ?? 0), 0) * 1024) / r.sessions);
  const sum = (k: "nativeHeapMiB" | "anonymousMiB" | "fileMiB") => Math.round(groups.reduce((a, x) => a + (x.breakdown?.[k] ?? 0), 0));
  const front = FRONT_LABEL[r.front];
  return (
    `Held, all processes: native heap ${sum("nativeHeapMiB")} MiB, V8 heap and other anonymous memory ${sum("anonymousMiB")} MiB, mapped files (binaries, shared, counted in every process's RSS) ${sum("fileMiB")} MiB. ` +
    `Per held session (KiB, (held − idle) / ${r.sessions}): ${front} ${slopeKiB(of(r.front), r.sessions)} (native heap ~${native(of(r.front))}: two TLS connections, device side and target side), ` +
    `fleets ${slopeKiB(of("fleet"), r.sessions)} (their process baseline included: they start with their devices; native ~${native(of("fleet"))}: a TLS context and a TLS connection per device), UMS ${slopeKiB(of("ums"), r.sessions)} (native ~${native(of("ums"))}: one TLS connection and the device's records).`
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
    // The devices are the load generator; what a deployment would run is the ALB and the UMS.
    { name: "of which the emulated infrastructure (ALB emulator + UMS)", value: components.filter((c) => c.name !== "fleets").reduce((a, c) => a + c.peakMiB, 0), unit: "MiB" },
    { name: "idle baseline (ALB emulator + UMS, resident before any device)", value: r.totalIdleRssMiB!, unit: "MiB" },
    { name: "total resident while held (sum of VmRSS)", value: r.totalHeldRssMiB!, unit: "MiB" },
    { name: "per held session, every process: (held − idle) / sessions", value: r.perSessionKiB!, unit: "KiB" },
    { name: "per held session, ALB emulator: (held − idle) / sessions", value: r.frontPerSessionKiB!, unit: "KiB" },
    { name: "total PSS while held (shared code counted once)", value: r.totalHeldPssMiB!, unit: "MiB" },
    { name: "sessions up (fleets spawned → all online)", value: round1(r.rampMs! / 1000), unit: "s" },
    ...components.flatMap((c) => [
      { name: `${c.name} (${c.processes} process${c.processes > 1 ? "es" : ""}): peak`, value: c.peakMiB, unit: "MiB" },
      { name: `${c.name}: per held session, (held − idle) / sessions`, value: round1(((c.heldRssMiB - c.idleRssMiB) * 1024) / r.sessions), unit: "KiB" },
    ]),
  ];
  const measured = `${r.totalPeakMiB} MiB peak for ${r.sessions} sessions (idle ${r.totalIdleRssMiB} MiB + ${r.perSessionKiB} KiB per held session)`;
  const row: TargetRow = targetApplies
    ? targetRow(total, quick, { name: TARGET_NAME, measured, note: memoryNote(r) })
    : { name: TARGET_NAME, measured, target: `<= ${TARGETS.memoryMiB} MiB`, verdict: "n/a", note: `${r.sessions} sessions: fewer than the target's ${TARGETS.memorySessions.toLocaleString("en")}` };
  return { figures, row };
}

/** The two fronts' slopes side by side, and the ratio target (judged in a full run of at least RATIO_MIN_SESSIONS). */
export function frontComparison(alb: SessionMemoryResult, nginx: SessionMemoryResult, quick: boolean): { figures: Figure[]; row: TargetRow; table: { header: string[]; rows: string[][] } } {
  const header = ["front", "processes", "idle RSS MiB", "held RSS MiB", "per held session KiB (slope)", "native heap held MiB", "descriptors held"];
  const line = (r: SessionMemoryResult): string[] => {
    const g = r.groups!.find((x) => x.name === r.front)!;
    return [FRONT_LABEL[r.front], String(g.processes), String(g.idleRssMiB), String(g.heldRssMiB), String(r.frontPerSessionKiB), String(g.breakdown?.nativeHeapMiB ?? "—"), String(r.descriptors?.[r.front] ?? "—")];
  };
  const table = { header, rows: [line(alb), line(nginx)] };
  const n = nginx.frontPerSessionKiB!;
  const ratio = n > 0 ? round2(alb.frontPerSessionKiB! / n) : Number.POSITIVE_INFINITY;
  const applies = alb.sessions >= RATIO_MIN_SESSIONS;
  const figure: Figure = { name: RATIO_NAME, value: ratio, unit: "x", ...(applies ? { max: FRONT_RATIO_MAX } : {}) };
  const figures: Figure[] = [{ name: "nginx: per held session, (held − idle) / sessions", value: n, unit: "KiB" }, figure];
  const measured = `${alb.frontPerSessionKiB} KiB vs ${n} KiB per session (${Number.isFinite(ratio) ? ratio : "—"}x)`;
  const row: TargetRow = applies
    ? targetRow(figure, quick, { name: RATIO_NAME, measured })
    : { name: RATIO_NAME, measured, target: `<= ${FRONT_RATIO_MAX} x`, verdict: "n/a", note: `${alb.sessions} sessions: a slope over fewer than ${RATIO_MIN_SESSIONS.toLocaleString("en")} is noise` };
  return { figures, row, table };
}

function groupTable(r: SessionMemoryResult): { header: string[]; rows: string[][] } {
  const header = ["process group", "processes", "idle RSS", "held RSS", "KiB/session", "peak (VmHWM)", "native heap", "V8 + anon", "files (shared)", "PSS", "CPU s"];
  const dash = (n: number | undefined) => (n === undefined ? "—" : String(n));
  const rows = r.groups!.map((g) => [
    g.name,
    String(g.processes),
    `${g.idleRssMiB}`,
    `${g.heldRssMiB}`,
    String(slopeKiB([g], r.sessions)),
    `${g.peakMiB}`,
    dash(g.breakdown?.nativeHeapMiB),
    dash(g.breakdown?.anonymousMiB),
    dash(g.breakdown?.fileMiB),
    dash(g.breakdown?.pssMiB),
    `${g.cpuSeconds}`,
  ]);
  return { header, rows };
}

export async function sessionMemoryBench(ctx: BenchContext, s: MemorySettings): Promise<BenchOutcome> {
  const lab = await ctx.lab();
  say(`session-memory: ${s.sessions} sessions held through alb-verify, then through nginx (reverse-proxy)`);
  const r = await measureSessionMemory(lab, { sessions: s.sessions, holdMs: s.holdMs, front: "alb" });
  if (!r.measured) say(`session-memory: ALB emulator: not measured: ${r.reason}`);
  const n = await measureSessionMemory(lab, { sessions: s.sessions, holdMs: s.holdMs, front: "nginx" });
  if (!n.measured) say(`session-memory: nginx: not measured: ${n.reason}`);
  const notMeasuredRatio: TargetRow = { name: RATIO_NAME, measured: "—", target: `<= ${FRONT_RATIO_MAX} x`, verdict: "not measured", note: [r, n].filter((x) => !x.measured).map((x) => `${FRONT_LABEL[x.front]}: ${x.reason}`).join("; ") };
  if (!r.measured) {
    publish(ctx, "session-memory", [], { settings: s, result: r, nginx: n });
    return {
      section: { id: "session-memory", title: `Memory of ${s.sessions} held sessions`, notes: [`Not measured: ${r.reason}`] },
      targets: [{ name: TARGET_NAME, measured: "—", target: `<= ${TARGETS.memoryMiB} MiB`, verdict: "not measured", note: r.reason }, notMeasuredRatio],
    };
  }
  const { figures, row } = memoryFigures(r, ctx.quick);
  const versus = n.measured ? frontComparison(r, n, ctx.quick) : undefined;
  const albTable = groupTable(r);
  const nginxTable = n.measured ? groupTable(n) : undefined;
  process.stdout.write(`\nsession-memory per process group, through the ALB emulator (MiB)\n${textTable(albTable.header, albTable.rows)}`);
  if (nginxTable) process.stdout.write(`\nsession-memory per process group, through nginx (MiB)\n${textTable(nginxTable.header, nginxTable.rows)}`);
  if (versus) process.stdout.write(`\nsession-memory: the fronts, same ${s.sessions} sessions\n${textTable(versus.table.header, versus.table.rows)}`);
  const allFigures = [...figures, ...(versus?.figures ?? [])];
  publish(ctx, "session-memory", allFigures, { settings: s, result: r, nginx: n });
  const groups = r.groups!;
  return {
    section: {
      id: "session-memory",
      title: `Memory of ${s.sessions} held device sessions: ALB emulator (alb-verify) and nginx (reverse-proxy)`,
      notes: [
        `${s.sessions} devices onboard and hold their management WebSocket, first through the ALB emulator (mTLS to its verify listener, HTTPS from the ALB to the UMS), then through real nginx doing the same job (topology reverse-proxy: mTLS termination, the verified certificate forwarded in a header, TLS to the UMS, WebSocket proxying). The UMS tells devices a ${r.heartbeatMs! / 1000} s heartbeat; each front runs ${r.frontWorkers} worker processes (every session is two sockets there, and a process may hold at most ${openFilesLimit().hard} descriptors on this machine); devices are spread over ${r.fleets} fleet process(es). Memory is read from /proc/<pid>/status: peak = each process's VmHWM (onboarding included), held = VmRSS after holding every session for ${round1(s.holdMs / 1000)} s, idle = VmRSS before any device; summed over every process of the fleets, the front (all its processes) and the UMS. Per held session = (held − idle) / sessions: the slope, what one more session costs.`,
        memoryNote(r),
        n.measured ? memoryNote(n) : `nginx: not measured: ${n.reason}`,
      ],
      charts: [
        {
          title: "Front memory per held session (KiB, slope)",
          unit: "KiB",
          series: ["per session"],
          groups: [r, ...(n.measured ? [n] : [])].map((x) => ({ label: FRONT_LABEL[x.front], values: [x.frontPerSessionKiB!] })),
        },
        { title: `Memory per process group, ${s.sessions} sessions through the ALB emulator`, unit: "MiB", series: ["idle", "held", "peak"], groups: groups.map((g) => ({ label: g.name, values: [g.idleRssMiB, g.heldRssMiB, g.peakMiB] })) },
        {
          title: "Where the held memory is (ALB emulator run)",
          unit: "MiB",
          series: ["native", "V8/anon", "files"],
          groups: groups.map((g) => ({ label: g.name, values: [g.breakdown?.nativeHeapMiB ?? 0, g.breakdown?.anonymousMiB ?? 0, g.breakdown?.fileMiB ?? 0] })),
        },
      ],
      tables: [
        ...(versus ? [{ caption: `The fronts, same ${s.sessions} sessions`, ...versus.table }] : []),
        { caption: "Through the ALB emulator, MiB", ...albTable },
        ...(nginxTable ? [{ caption: "Through nginx, MiB", ...nginxTable }] : []),
      ],
      figures: allFigures,
    },
    targets: [row, versus?.row ?? notMeasuredRatio],
  };
}
