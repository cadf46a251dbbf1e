import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { percentiles } from "../../simulator/common/stats";
import { readStack } from "../../simulator/terraform/read-stack";
import { resolveNginxBinary } from "../../simulator/proxy/nginx-binary";
import type { Chart } from "./bench-html";
import type { BenchContext, BenchOutcome } from "./context";
import { publish } from "./context";
import { round2, targetRow, Figure } from "./figures";
import { frontsWith, startUpstream, Front, FrontFiles, FrontKind } from "./alb-fronts";
import { runLoad, Load, LoadMode } from "./alb-load";
import { removeWorkDir, workDir } from "./bench-topology";
import { TARGETS, AlbSettings } from "./plan";
import { say } from "./progress";

/**
 * bench:alb — the ALB emulator against nginx doing the same mTLS termination and header injection,
 * and against a bare Node TLS server (the ceiling), on loopback with the lab's RSA-2048
 * certificates everywhere. Two loads: new mTLS connections per second (one request each, full
 * handshake) and requests per second on kept-alive connections. Targets (issue 4): the emulator
 * >= 0.5x nginx on new connections, >= 0.7x on kept-alive requests.
 *
 * A fair comparison on a shared machine: every front runs with 1 and with N processes and the best
 * of each kind is compared; the fronts are measured in rounds, in alternating order, and the
 * figures are the medians over the rounds.
 */

const CONCURRENCY: Readonly<Record<LoadMode, number>> = { connections: 32, requests: 64 };

export interface FrontResult {
  readonly name: string;
  readonly kind: FrontKind;
  readonly connections: Load;
  readonly requests: Load;
}

/** The verify stack's web certificate and trust store, and the lab device that presents its certificate. */
async function frontFiles(ctx: BenchContext, dir: string): Promise<{ files: FrontFiles; client: { certFile: string; keyFile: string } }> {
  const { lab } = await ctx.lab();
  const stackDir = lab.stackDir("ums-alb-verify");
  const stack = readStack(stackDir);
  const mtls = stack.listeners.find((l) => l.mutualAuthentication.mode === "verify");
  if (!mtls?.certificate || !mtls.mutualAuthentication.trustStore) throw new Error(`${stackDir}: no mTLS verify listener with a certificate and a trust store`);
  const certFile = `${dir}/web-chain.pem`;
  fs.writeFileSync(certFile, fs.readFileSync(mtls.certificate.bodyFile, "utf8") + (mtls.certificate.chainFile ? fs.readFileSync(mtls.certificate.chainFile, "utf8") : ""));
  return {
    files: { stackDir, listenerPorts: stack.listeners.map((l) => l.port), certFile, keyFile: mtls.certificate.privateKeyFile, caBundleFile: mtls.mutualAuthentication.trustStore.caBundleFile, workDir: dir },
    client: { certFile: lab.pki.devices.good.chain, keyFile: lab.pki.devices.good.key },
  };
}

async function measureFront(front: Front, s: AlbSettings, client: { certFile: string; keyFile: string }): Promise<FrontResult> {
  const started = await front.start();
  try {
    const load = (mode: LoadMode) => runLoad(started, front.name, { mode, concurrency: CONCURRENCY[mode], generators: s.generators, warmupMs: s.warmupMs, durationMs: s.durationMs, ...client });
    const connections = await load("connections");
    const requests = await load("requests");
    say(`${front.name}: ${connections.perSecond.toFixed(0)} new connections/s (${(connections.frontCpuMsPer * 1000).toFixed(0)} µs CPU each); ${requests.perSecond.toFixed(0)} kept-alive requests/s (${(requests.frontCpuMsPer * 1000).toFixed(1)} µs CPU each)`);
    return { name: front.name, kind: front.kind, connections, requests };
  } finally {
    await started.stop();
  }
}

/** A front's loads over the rounds, each figure the median (nearest rank). */
export function medianResult(rounds: readonly FrontResult[]): FrontResult {
  const p50 = (values: number[]) => percentiles(values).p50!;
  const med = (k: LoadMode): Load => ({
    perSecond: p50(rounds.map((r) => r[k].perSecond)),
    errors: rounds.reduce((a, r) => a + r[k].errors, 0),
    frontCpuMsPer: p50(rounds.map((r) => r[k].frontCpuMsPer)),
    generatorCores: p50(rounds.map((r) => r[k].generatorCores)),
  });
  return { name: rounds[0].name, kind: rounds[0].kind, connections: med("connections"), requests: med("requests") };
}

function figuresOf(results: readonly FrontResult[]): { figures: Figure[]; ratios: Figure[] } {
  const of = (kind: FrontKind) => results.filter((r) => r.kind === kind);
  const best = (rs: FrontResult[], k: LoadMode, better: (a: Load, b: Load) => boolean) => rs.reduce((a, b) => (better(b[k], a[k]) ? b : a));
  const fastest = (rs: FrontResult[], k: LoadMode) => best(rs, k, (a, b) => a.perSecond > b.perSecond);
  const cheapest = (rs: FrontResult[], k: LoadMode) => best(rs, k, (a, b) => a.frontCpuMsPer < b.frontCpuMsPer);
  const figures: Figure[] = results.flatMap((r) => [
    { name: `${r.name}: new mTLS connections`, value: Math.round(r.connections.perSecond), unit: "conn/s" },
    { name: `${r.name}: kept-alive requests`, value: Math.round(r.requests.perSecond), unit: "req/s" },
  ]);
  const ratios: Figure[] = (
    [
      ["connections", "new connections", TARGETS.albVsNginxConnections],
      ["requests", "kept-alive requests", TARGETS.albVsNginxRequests],
    ] as const
  ).map(([k, what, min]) => {
    const e = fastest(of("emulator"), k);
    const n = fastest(of("nginx"), k);
    return { name: `emulator / nginx, ${what} (${e.name} / ${n.name})`, value: round2(e[k].perSecond / n[k].perSecond), unit: "x", min };
  });
  const efficiency: Figure[] = (
    [
      ["connections", "new connections"],
      ["requests", "kept-alive requests"],
    ] as const
  ).map(([k, what]) => {
    const e = cheapest(of("emulator"), k);
    const n = cheapest(of("nginx"), k);
    return { name: `CPU efficiency vs nginx, ${what} (${n.name} CPU / ${e.name} CPU)`, value: round2(n[k].frontCpuMsPer / e[k].frontCpuMsPer), unit: "x" };
  });
  const cpu: Figure[] = results.flatMap((r) => [
    { name: `${r.name}: CPU per new connection`, value: Math.round(r.connections.frontCpuMsPer * 1000), unit: "µs" },
    { name: `${r.name}: CPU per kept-alive request`, value: Math.round(r.requests.frontCpuMsPer * 10_000) / 10, unit: "µs" },
  ]);
  return { figures: [...figures, ...ratios, ...efficiency, ...cpu], ratios };
}

function charts(results: readonly FrontResult[]): Chart[] {
  // "ALB emulator (2 processes)" → "ALB ×2": labels fit under their bars.
  const label = (n: string) =>
    n
      .replace("ALB emulator", "ALB")
      .replace("bare Node TLS server", "bare TLS")
      .replace(/ \((\d+) (?:worker|process)(?:es|s)?\)/, " ×$1");
  return [
    { title: "New mTLS connections per second", unit: "conn/s", series: ["conn/s"], groups: results.map((r) => ({ label: label(r.name), values: [Math.round(r.connections.perSecond)] })) },
    { title: "Kept-alive requests per second", unit: "req/s", series: ["req/s"], groups: results.map((r) => ({ label: label(r.name), values: [Math.round(r.requests.perSecond)] })) },
  ];
}

export async function albBench(ctx: BenchContext, s: AlbSettings): Promise<BenchOutcome> {
  const nginx = resolveNginxBinary();
  const dir = workDir("alb");
  try {
    const { files, client } = await frontFiles(ctx, dir);
    const upstream = await startUpstream(files);
    const fronts = s.processCounts.flatMap((n) => frontsWith(files, n, upstream.port));
    const rounds = new Map<string, FrontResult[]>(fronts.map((f) => [f.name, []]));
    try {
      for (let round = 0; round < s.rounds; round++) {
        if (s.rounds > 1) say(`round ${round + 1} of ${s.rounds}`);
        // Alternating order: no front is always measured first or last while the machine's load drifts.
        for (const front of round % 2 ? [...fronts].reverse() : fronts) rounds.get(front.name)!.push(await measureFront(front, s, client));
      }
    } finally {
      await upstream.stop();
    }
    const results = fronts.map((f) => medianResult(rounds.get(f.name)!));
    const { figures, ratios } = figuresOf(results);
    publish(ctx, "alb", figures, {
      nginx: execFileSync(nginx, ["-v"], { stdio: "pipe", encoding: "utf8" }).trim() || "nginx",
      settings: { ...s, concurrency: CONCURRENCY, key: "RSA-2048 server and client certificates (lab PKI)", figures: "medians over the rounds" },
      results,
      rounds: Object.fromEntries(rounds),
    });
    return {
      section: {
        id: "alb",
        title: "ALB emulator against nginx (bench:alb)",
        notes: [
          `New mTLS connections (one request each, full handshake) and kept-alive requests, from ${s.generators} load generator processes, ${s.durationMs} ms per load after ${s.warmupMs} ms of warm-up; every front with ${s.processCounts.join(" and ")} process(es); ${s.rounds} round(s), medians shown.`,
        ],
        charts: charts(results),
        figures,
      },
      targets: ratios.map((f) => targetRow(f, ctx.quick, { name: `bench:alb: ${f.name}` })),
    };
  } finally {
    removeWorkDir(dir);
  }
}
