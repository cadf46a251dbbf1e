/**
 * `npm run bench` (after `npm run build`): every benchmark, each section's figures as a table on
 * stdout and as reports/bench/<name>.json, one page with charts (reports/bench/bench.html), and
 * exit 1 when a target is missed, naming it.
 *
 *   1. bench:synth  — cold synthesis of all stacks (scripts/bench/synth.ts, its own process)
 *   2. bench:alb    — the ALB emulator against nginx and a bare TLS server (scripts/bench/alb.ts)
 *   3. fleet-scale  — N devices onboard and get a command, through every topology; target:
 *                     1,000 devices onboarded and commanded through alb-verify in under 20 s
 *   4. session-memory — 10,000 device sessions held through the ALB emulator; target: under
 *                     2 GiB in total (fleet processes + ALB emulator + UMS)
 *   5. topology-latency — command round trip per topology, same device count; asserts
 *                     icg > reverse-proxy (IGEL's connection-options document)
 *
 * `--quick` (or UMS_EDGE_BENCH_QUICK=1): a small version for smoke tests (100 devices, 1,000
 * sessions, fewer samples); the scale targets do not apply to it, the latency ordering does.
 * Other options: --devices N, --sessions N, --repeats N (alb-verify runs, median reported),
 * --latency-devices N, --latency-samples N, --only synth,alb,fleet,memory,latency.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../core/project-root";
import { TOPOLOGIES } from "../../simulator/runtime/topologies/definitions";
import { textTable } from "../../simulator/report/text-table";
import { reportFigures, passes, Figure } from "./report";
import { renderBenchHtml, formatValue, Section, TargetRow, Chart } from "./bench-html";
import { CORES, QUICK, flag, median, round1, say, openFilesLimit } from "./harness";
import { measureFleetScale, FleetScaleResult } from "./fleet-scale";
import { measureSessionMemory, SessionMemoryResult } from "./session-memory";
import { measureTopologyLatency, LatencyResult } from "./topology-latency";

const ONBOARD_TARGET_MS = 20_000;
const ONBOARD_TARGET_DEVICES = 1000;
const MEMORY_TARGET_MIB = 2048;
const MEMORY_TARGET_SESSIONS = 10_000;

const REPORT_DIR = path.join(projectRoot(), "reports", "bench");
const runStarted = new Date();

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const ONLY = new Set((option("only") ?? "synth,alb,fleet,memory,latency").split(","));

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");

/** A benchmark script of its own (synth, alb) run as a child process, output straight through. */
function runScript(script: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, script), ...args], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on("error", () => resolve(127));
  });
}

interface FiguresFile {
  readonly measuredAt: string;
  readonly figures: readonly Figure[];
  readonly [k: string]: unknown;
}

/** reports/bench/<name>.json, only if this run wrote it. */
function freshReport(name: string): FiguresFile | undefined {
  try {
    const json = JSON.parse(fs.readFileSync(path.join(REPORT_DIR, `${name}.json`), "utf8")) as FiguresFile;
    return Date.parse(json.measuredAt) >= runStarted.getTime() - 1000 ? json : undefined;
  } catch {
    return undefined;
  }
}

function targetRowsOf(bench: string, figures: readonly Figure[]): TargetRow[] {
  return figures
    .filter((f) => f.max !== undefined || f.min !== undefined)
    .map((f) => ({
      name: `${bench}: ${f.name}`,
      measured: formatValue(f),
      target: f.max !== undefined ? `<= ${f.max} ${f.unit}` : `>= ${f.min} ${f.unit}`,
      verdict: passes(f) ? "met" : "MISSED",
    }));
}

// ------------------------------------------------------------------ 1, 2: synth and alb

async function scriptSection(name: "synth" | "alb", title: string, args: readonly string[], targets: TargetRow[]): Promise<Section> {
  say(`\n== bench:${name} (load average ${load()})`);
  const code = await runScript(`${name}.js`, args);
  const report = freshReport(name);
  if (!report) {
    targets.push({ name: `bench:${name}`, measured: "—", target: "its own targets", verdict: "not measured", note: `bench:${name} exited with code ${code} without writing reports/bench/${name}.json` });
    return { id: name, title, notes: [`bench:${name} did not complete (exit code ${code}); see its output above.`] };
  }
  targets.push(...targetRowsOf(`bench:${name}`, report.figures));
  const charts: Chart[] = [];
  if (name === "alb") {
    const results = (report.results ?? []) as Array<{ name: string; connections: { perSecond: number }; requests: { perSecond: number } }>;
    // "ALB emulator (2 processes)" → "ALB ×2": labels fit under their bars.
    const label = (n: string) => n.replace("ALB emulator", "ALB").replace("bare Node TLS server", "bare TLS").replace(/ \((\d+) (?:worker|process)(?:es|s)?\)/, " ×$1");
    if (results.length > 0) {
      charts.push({ title: "New mTLS connections per second", unit: "conn/s", series: ["conn/s"], groups: results.map((r) => ({ label: label(r.name), values: [Math.round(r.connections.perSecond)] })) });
      charts.push({ title: "Kept-alive requests per second", unit: "req/s", series: ["req/s"], groups: results.map((r) => ({ label: label(r.name), values: [Math.round(r.requests.perSecond)] })) });
    }
  }
  return { id: name, title, notes: code !== 0 ? [`bench:${name} exited with code ${code}.`] : [], charts, figures: report.figures };
}

// ------------------------------------------------------------------ 3: fleet at scale

async function fleetSection(targets: TargetRow[]): Promise<Section> {
  const devices = flag("devices", QUICK ? 100 : ONBOARD_TARGET_DEVICES);
  const repeats = Math.max(1, flag("repeats", QUICK ? 1 : 3));
  const targetApplies = !QUICK && devices >= ONBOARD_TARGET_DEVICES;
  say(`\n== fleet-scale: ${devices} devices per topology, one fleet process each (load average ${load()})`);
  const results: FleetScaleResult[] = [];
  const albVerifyRuns: FleetScaleResult[] = [];
  for (const name of TOPOLOGIES) {
    const runs = name === "alb-verify" ? repeats : 1;
    const these: FleetScaleResult[] = [];
    for (let i = 0; i < runs; i++) {
      if (runs > 1) say(`${name}: run ${i + 1} of ${runs}`);
      these.push(await measureFleetScale(name, { devices }));
    }
    const measured = these.filter((r) => r.measured);
    // The median run (by total time) stands for the topology; every run's total is kept.
    const chosen = measured.length > 0 ? [...measured].sort((a, b) => a.totalMs! - b.totalMs!)[Math.floor((measured.length - 1) / 2)] : these[0];
    results.push(chosen);
    if (name === "alb-verify") albVerifyRuns.push(...these);
  }
  const figures: Figure[] = [];
  for (const r of results.filter((x) => x.measured)) {
    figures.push({ name: `${r.topology}: onboarding throughput`, value: r.onboardedPerSecond!, unit: "devices/s" });
    figures.push({ name: `${r.topology}: command round trip p50`, value: r.roundTripMs!.p50, unit: "ms" });
    figures.push({ name: `${r.topology}: command round trip p95`, value: r.roundTripMs!.p95, unit: "ms" });
    figures.push({ name: `${r.topology}: command round trip p99`, value: r.roundTripMs!.p99, unit: "ms" });
    figures.push({ name: `${r.topology}: onboarded and commanded, total`, value: round1(r.totalMs! / 1000), unit: "s" });
  }
  const albVerifyTotals = albVerifyRuns.filter((r) => r.measured).map((r) => r.totalMs!);
  const targetName = `alb-verify: ${devices} devices onboarded and commanded${albVerifyTotals.length > 1 ? ` (median of ${albVerifyTotals.length} runs)` : ""}`;
  if (albVerifyTotals.length > 0) {
    const value = round1(median(albVerifyTotals) / 1000);
    figures.push({ name: targetName, value, unit: "s", ...(targetApplies ? { max: ONBOARD_TARGET_MS / 1000 } : {}) });
    targets.push({
      name: `${ONBOARD_TARGET_DEVICES.toLocaleString("en")} devices onboarded and commanded through alb-verify`,
      measured: `${value} s for ${devices} devices (runs: ${albVerifyTotals.map((t) => round1(t / 1000)).join(", ")} s)`,
      target: `< ${ONBOARD_TARGET_MS / 1000} s`,
      verdict: targetApplies ? (value < ONBOARD_TARGET_MS / 1000 ? "met" : "MISSED") : "n/a (quick run)",
      note: cpuNote(albVerifyRuns.find((r) => r.totalMs === [...albVerifyTotals].sort((a, b) => a - b)[Math.floor((albVerifyTotals.length - 1) / 2)])),
    });
  } else {
    targets.push({ name: `${ONBOARD_TARGET_DEVICES.toLocaleString("en")} devices onboarded and commanded through alb-verify`, measured: "—", target: `< ${ONBOARD_TARGET_MS / 1000} s`, verdict: "not measured", note: albVerifyRuns[0]?.reason });
  }
  const rows = results.map((r) =>
    r.measured
      ? [
          r.topology,
          String(r.devices),
          (r.onboardingWallMs! / 1000).toFixed(2),
          String(r.onboardedPerSecond),
          `${r.onboardingMs?.p50 ?? "—"} / ${r.onboardingMs?.p95 ?? "—"}`,
          `${r.roundTripMs!.p50} / ${r.roundTripMs!.p95} / ${r.roundTripMs!.p99}`,
          (r.totalMs! / 1000).toFixed(2),
          Object.entries(r.cpuSeconds ?? {})
            .map(([k, v]) => `${k} ${v}`)
            .join(", "),
        ]
      : [r.topology, String(r.devices), "not measured", "", "", "", "", r.reason ?? ""],
  );
  const header = ["topology", "devices", "all online s", "devices/s", "onboarding p50/p95 ms", "round trip p50/p95/p99 ms", "total s", "CPU s"];
  process.stdout.write(`\nfleet-scale per topology\n${textTable(header, rows)}`);
  reportFigures("fleet-scale", figures, { devices, repeats, machine: machine(), results, albVerifyRuns });
  const measured = results.filter((r) => r.measured);
  return {
    id: "fleet-scale",
    title: `Onboarding and commands at scale: ${devices} devices per topology`,
    notes: [
      `Per topology, ${devices} devices in a fleet process of their own (keys drawn from a pool of 64; each device gets its own certificate) onboard at the enrollment address and open their management sessions; then one settings2tc command goes to all of them in one IMI request. Throughput: devices / (fleet process spawned → every device online). Round trip: the UMS's record, finishedAt − queuedAt. Total: fleet spawned → every command SUCCESS.`,
      `${albVerifyRuns.length > 1 ? `alb-verify ran ${albVerifyRuns.length} times; the median run (by total time) is shown.` : "Each topology ran once."} CPU seconds are per component over the whole run (the machine is shared: CPU time does not depend on what other work runs meanwhile).`,
      ...results.filter((r) => !r.measured).map((r) => `${r.topology}: not measured — ${r.reason}`),
    ],
    charts: [
      { title: "Onboarding throughput (until every device is online)", unit: "devices/s", series: ["devices/s"], groups: measured.map((r) => ({ label: r.topology, values: [r.onboardedPerSecond!] })) },
      { title: `Command round trip at scale, ${devices} devices at once (UMS record)`, unit: "ms", series: ["p50", "p95", "p99"], groups: measured.map((r) => ({ label: r.topology, values: [r.roundTripMs!.p50, r.roundTripMs!.p95, r.roundTripMs!.p99] })) },
      { title: "Onboarded and commanded, total", unit: "s", series: ["total"], groups: measured.map((r) => ({ label: r.topology, values: [round1(r.totalMs! / 1000)] })) },
    ],
    tables: [{ header, rows }],
    figures,
  };
}

function cpuNote(r: FleetScaleResult | undefined): string | undefined {
  if (!r?.cpuSeconds) return undefined;
  const total = Object.values(r.cpuSeconds).reduce((a, b) => a + b, 0);
  return `CPU ${round1(total)} s over ${round1(r.totalMs! / 1000)} s wall on ${CORES} cores (${Object.entries(r.cpuSeconds)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")}); per device ${round1((total * 1000) / r.devices)} ms CPU`;
}

// ------------------------------------------------------------------ 4: held sessions

async function memorySection(targets: TargetRow[]): Promise<Section> {
  const sessions = flag("sessions", QUICK ? 1000 : MEMORY_TARGET_SESSIONS);
  const targetApplies = !QUICK && sessions >= MEMORY_TARGET_SESSIONS;
  say(`\n== session-memory: ${sessions} sessions held through alb-verify (load average ${load()})`);
  const r: SessionMemoryResult = await measureSessionMemory({ sessions });
  const targetName = `${MEMORY_TARGET_SESSIONS.toLocaleString("en")} device sessions held through the ALB emulator, total memory`;
  if (!r.measured) {
    say(`session-memory: not measured: ${r.reason}`);
    targets.push({ name: targetName, measured: "—", target: `< ${MEMORY_TARGET_MIB} MiB`, verdict: "not measured", note: r.reason });
    reportFigures("session-memory", [], { sessions, result: r, machine: machine() });
    return { id: "session-memory", title: `Memory of ${sessions} held sessions`, notes: [`Not measured: ${r.reason}`] };
  }
  const groups = r.groups!;
  const figures: Figure[] = [
    { name: `${sessions} sessions held: total peak (sum of every process's VmHWM)`, value: r.totalPeakMiB!, unit: "MiB", ...(targetApplies ? { max: MEMORY_TARGET_MIB } : {}) },
    { name: "peak per 1,000 held sessions", value: r.perThousandPeakMiB!, unit: "MiB" },
    // The devices are the load generator; what a deployment would run is the ALB and the UMS.
    { name: "of which the emulated infrastructure (ALB emulator + UMS)", value: groups.filter((g) => g.name !== "fleets" && !g.name.startsWith("fleet")).reduce((sum, g) => sum + g.peakMiB, 0), unit: "MiB" },
    { name: "total resident while held (sum of VmRSS)", value: r.totalHeldRssMiB!, unit: "MiB" },
    { name: "resident per 1,000 held sessions", value: r.perThousandHeldMiB!, unit: "MiB" },
    { name: "marginal: (held - idle) per 1,000 sessions", value: r.perThousandMarginalMiB!, unit: "MiB" },
    { name: "total PSS while held (shared code counted once)", value: r.totalHeldPssMiB!, unit: "MiB" },
    { name: "sessions up (fleets spawned → all online)", value: round1(r.rampMs! / 1000), unit: "s" },
    ...components(groups).flatMap((c) => [
      { name: `${c.name} (${c.processes} process${c.processes > 1 ? "es" : ""}): peak`, value: c.peakMiB, unit: "MiB" },
      { name: `${c.name}: per 1,000 sessions, held - idle`, value: round1(((c.heldRssMiB - c.idleRssMiB) * 1000) / sessions), unit: "MiB" },
    ]),
  ];
  targets.push({
    name: targetName,
    measured: `${r.totalPeakMiB} MiB for ${sessions} sessions (${r.perThousandPeakMiB} MiB per 1,000)`,
    target: `< ${MEMORY_TARGET_MIB} MiB`,
    verdict: targetApplies ? (r.totalPeakMiB! < MEMORY_TARGET_MIB ? "met" : "MISSED") : "n/a (quick run)",
    note: memoryNote(r),
  });
  const header = ["process group", "processes", "idle RSS", "held RSS", "peak (VmHWM)", "native heap", "V8 + anon", "files (shared)", "PSS", "CPU s"];
  const rows = groups.map((g) => [g.name, String(g.processes), `${g.idleRssMiB}`, `${g.heldRssMiB}`, `${g.peakMiB}`, `${g.breakdown?.nativeHeapMiB ?? "—"}`, `${g.breakdown?.anonymousMiB ?? "—"}`, `${g.breakdown?.fileMiB ?? "—"}`, `${g.breakdown?.pssMiB ?? "—"}`, `${g.cpuSeconds}`]);
  process.stdout.write(`\nsession-memory per process group (MiB)\n${textTable(header, rows)}`);
  reportFigures("session-memory", figures, { sessions, machine: machine(), result: r });
  return {
    id: "session-memory",
    title: `Memory of ${sessions} held device sessions (alb-verify)`,
    notes: [
      `${sessions} devices onboard and hold their management WebSocket (mTLS to the ALB emulator's 8443 listener, HTTPS from the ALB to the UMS). The UMS tells devices a ${r.heartbeatMs! / 1000} s heartbeat; the ALB emulator runs ${r.albWorkers} node:cluster workers (every session is two sockets there, and a process may hold at most ${openFilesLimit().hard} descriptors on this machine); devices are spread over ${r.fleets} fleet process(es). Memory is read from /proc/<pid>/status: peak = each process's VmHWM (onboarding included), held = VmRSS after holding every session for 10 s; summed over every process of the fleets, the ALB emulator (primary and workers) and the UMS.`,
      memoryNote(r),
    ],
    charts: [
      { title: `Memory per process group, ${sessions} sessions`, unit: "MiB", series: ["idle", "held", "peak"], groups: groups.map((g) => ({ label: g.name, values: [g.idleRssMiB, g.heldRssMiB, g.peakMiB] })) },
      {
        title: "Where the held memory is",
        unit: "MiB",
        series: ["native", "V8/anon", "files"],
        groups: groups.map((g) => ({ label: g.name, values: [g.breakdown?.nativeHeapMiB ?? 0, g.breakdown?.anonymousMiB ?? 0, g.breakdown?.fileMiB ?? 0] })),
      },
    ],
    tables: [{ caption: "MiB", header, rows }],
    figures,
  };
}

/** The process groups by component: the fleet processes added up. */
function components(groups: NonNullable<SessionMemoryResult["groups"]>): Array<{ name: string; processes: number; idleRssMiB: number; heldRssMiB: number; peakMiB: number }> {
  const out = new Map<string, { name: string; processes: number; idleRssMiB: number; heldRssMiB: number; peakMiB: number }>();
  for (const g of groups) {
    const name = g.name.startsWith("fleet") ? "fleets" : g.name;
    const c = out.get(name) ?? { name, processes: 0, idleRssMiB: 0, heldRssMiB: 0, peakMiB: 0 };
    out.set(name, { name, processes: c.processes + g.processes, idleRssMiB: c.idleRssMiB + g.idleRssMiB, heldRssMiB: c.heldRssMiB + g.heldRssMiB, peakMiB: c.peakMiB + g.peakMiB });
  }
  return [...out.values()];
}

function memoryNote(r: SessionMemoryResult): string {
  const g = (n: string) => r.groups!.filter((x) => x.name === n || x.name.startsWith(n));
  const per = (list: readonly { heldRssMiB: number; idleRssMiB: number }[]) => Math.round((list.reduce((a, x) => a + x.heldRssMiB - x.idleRssMiB, 0) * 1024) / r.sessions);
  const native = (list: readonly { breakdown?: { nativeHeapMiB: number } }[]) => Math.round((list.reduce((a, x) => a + (x.breakdown?.nativeHeapMiB ?? 0), 0) * 1024) / r.sessions);
  const sum = (k: "nativeHeapMiB" | "anonymousMiB" | "fileMiB") => Math.round(r.groups!.reduce((a, x) => a + (x.breakdown?.[k] ?? 0), 0));
  return (
    `Held, all processes: native heap ${sum("nativeHeapMiB")} MiB, V8 heap and other anonymous memory ${sum("anonymousMiB")} MiB, mapped files (the node binary, shared, counted in every process's RSS) ${sum("fileMiB")} MiB. ` +
    `Per held session (KiB, held − idle): ALB emulator ${per(g("alb"))} (of which native heap ~${native(g("alb"))}: two TLS connections, device side and target side), ` +
    `fleet ${per(g("fleet"))} (native ~${native(g("fleet"))}: a TLS context and a TLS connection per device), UMS ${per(g("ums"))} (native ~${native(g("ums"))}: one TLS connection). ` +
    `Node 20 / OpenSSL 3 keep ~45-60 KiB of native memory per established TLS connection and ~40 KiB per TLS context with a certificate and key; a session crosses four TLS endpoints.`
  );
}

// ------------------------------------------------------------------ 5: latency ordering

async function latencySection(targets: TargetRow[]): Promise<Section> {
  const devices = flag("latency-devices", QUICK ? 5 : 20);
  const samples = flag("latency-samples", QUICK ? 40 : 300);
  say(`\n== topology-latency: ${devices} devices per topology, ${samples} commands each, interleaved (load average ${load()})`);
  const r: LatencyResult = await measureTopologyLatency({ devices, samples });
  const figures: Figure[] = [];
  for (const t of r.topologies.filter((x) => x.measured)) {
    for (const k of ["mean", "p50", "p95", "p99"] as const) figures.push({ name: `${t.topology}: command round trip ${k}`, value: t.roundTripMs![k], unit: "ms" });
  }
  const icg = r.topologies.find((t) => t.topology === "icg");
  const rp = r.topologies.find((t) => t.topology === "reverse-proxy");
  const ordering = "icg > reverse-proxy: command round trip (IGEL: the ICG adds latency)";
  if (r.icgSlowerThanReverseProxy !== undefined) {
    const diff = Math.round((icg!.roundTripMs!.mean - rp!.roundTripMs!.mean) * 100) / 100;
    figures.push({ name: "icg - reverse-proxy, mean round trip (must be > 0)", value: diff, unit: "ms", min: 0.01 });
    targets.push({ name: ordering, measured: `icg ${icg!.roundTripMs!.mean} ms, reverse-proxy ${rp!.roundTripMs!.mean} ms (mean of ${samples})`, target: "icg > reverse-proxy", verdict: r.icgSlowerThanReverseProxy ? "met" : "MISSED", note: r.ordering });
  } else {
    targets.push({ name: ordering, measured: "—", target: "icg > reverse-proxy", verdict: "not measured", note: r.ordering });
  }
  const header = ["topology", "devices", "round trip mean", "p50", "p95", "p99", "POST → device executed, mean ms"];
  const rows = r.topologies.map((t) =>
    t.measured
      ? [t.topology, String(t.devices), `${t.roundTripMs!.mean}`, `${t.roundTripMs!.p50}`, `${t.roundTripMs!.p95}`, `${t.roundTripMs!.p99}`, `${t.deliveryMs!.mean}`]
      : [t.topology, String(t.devices), "not measured", "", "", "", t.reason ?? ""],
  );
  process.stdout.write(`\ntopology-latency (ms, UMS record finishedAt - queuedAt)\n${textTable(header, rows)}`);
  reportFigures("topology-latency", figures, { devices, samples, machine: machine(), result: r });
  say(r.ordering);
  const measured = r.topologies.filter((t) => t.measured);
  return {
    id: "topology-latency",
    title: `Command round trip per topology (${devices} devices each, ${samples} commands one at a time)`,
    notes: [
      "Every topology runs at once with the same device count; one command at a time per topology, interleaved across topologies in a shuffled order each round, so all see the same background load. The figure is the UMS's own record (finishedAt − queuedAt, ms resolution; the mean over many samples is the figure compared).",
      r.ordering,
      ...r.topologies.filter((t) => !t.measured).map((t) => `${t.topology}: not measured — ${t.reason}`),
    ],
    charts: [{ title: "Command round trip, one command at a time (UMS record)", unit: "ms", series: ["mean", "p50", "p95"], groups: measured.map((t) => ({ label: t.topology, values: [t.roundTripMs!.mean, t.roundTripMs!.p50, t.roundTripMs!.p95] })) }],
    tables: [{ caption: "ms", header, rows }],
    figures,
  };
}

// ------------------------------------------------------------------ main

function machine(): Record<string, unknown> {
  const { soft, hard } = openFilesLimit();
  return { cores: CORES, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100), openFiles: { soft, hard } };
}

async function main(): Promise<void> {
  say(`ums-edge bench${QUICK ? " (quick)" : ""}: ${CORES} cores, Node ${process.version}, open files ${openFilesLimit().soft}, load average ${load()}`);
  const targets: TargetRow[] = [];
  const sections: Section[] = [];
  const loadStart = load();
  if (ONLY.has("synth")) sections.push(await scriptSection("synth", "Synthesis (bench:synth)", [], targets));
  if (ONLY.has("alb")) sections.push(await scriptSection("alb", "ALB emulator against nginx (bench:alb)", QUICK ? ["--duration", "1500"] : [], targets));
  if (ONLY.has("fleet")) sections.push(await fleetSection(targets));
  if (ONLY.has("memory")) sections.push(await memorySection(targets));
  if (ONLY.has("latency")) sections.push(await latencySection(targets));

  fs.mkdirSync(REPORT_DIR, { recursive: true });
  const html = path.join(REPORT_DIR, "bench.html");
  fs.writeFileSync(
    html,
    renderBenchHtml({
      generatedAt: new Date().toISOString(),
      machine: `${CORES} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, open files ${openFilesLimit().soft}; load average at start ${loadStart}, at end ${load()} (a shared machine: other work runs meanwhile)`,
      quick: QUICK,
      targets,
      sections,
    }),
  );
  process.stdout.write(`\ntargets\n${textTable(["target", "measured", "target", "verdict"], targets.map((t) => [t.name, t.measured, t.target, t.verdict]))}`);
  process.stdout.write(`written: ${path.relative(process.cwd(), html)}\n`);
  const missed = targets.filter((t) => t.verdict === "MISSED" || t.verdict === "not measured");
  if (missed.length > 0) {
    process.stderr.write(`\nbench: ${missed.length} target(s) missed or not measured:\n${missed.map((t) => `  - ${t.name}: ${t.verdict} (${t.measured}; target ${t.target})${t.note ? `\n      ${t.note}` : ""}`).join("\n")}\n`);
    process.exitCode = 1;
  } else process.stderr.write("\nbench: every target met\n");
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 2;
});

