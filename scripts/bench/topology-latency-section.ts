import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import { textTable } from "../../simulator/report/text-table";
import type { BenchContext, BenchOutcome } from "./context";
import { publish } from "./context";
import { orderingFigure, targetRow, Figure, TargetRow } from "./figures";
import { measureTopologyLatency, TopologyLatency } from "./topology-latency";
import type { LatencySettings } from "./plan";
import { say } from "./progress";

/**
 * The command round trip per topology, and the ordering IGEL's connection-options document states:
 * through the ICG a command takes longer than through a reverse proxy. An ordering of two
 * measurements taken side by side holds on a slow machine too: every run asserts it, --quick too.
 */

export interface Ordering {
  /** The difference of the means, with the ordering's target; absent when either side was not measured. */
  readonly figure?: Figure;
  readonly row: TargetRow;
  /** One line for the log. */
  readonly text: string;
}

/** `slower > faster` on the mean UMS round trip of two topologies. */
export function roundTripOrdering(results: readonly TopologyLatency[], slower: TopologyName, faster: TopologyName, quick: boolean, why: string): Ordering {
  const name = `${slower} > ${faster}: command round trip (${why})`;
  const target = `${slower} > ${faster}`;
  const s = results.find((r) => r.topology === slower);
  const f = results.find((r) => r.topology === faster);
  const usable = (r: TopologyLatency | undefined) => r?.measured === true && (r.roundTripMs?.count ?? 0) > 0;
  if (!usable(s) || !usable(f)) {
    const [topology, r] = !usable(s) ? [slower, s] : [faster, f];
    const text = `${target} cannot be checked: ${topology} not measured (${r?.reason ?? (r ? "no command round trip recorded" : "not run")})`;
    return { row: { name, measured: "—", target, verdict: "not measured", note: text }, text };
  }
  const sm = s!.roundTripMs!.mean!;
  const fm = f!.roundTripMs!.mean!;
  const figure = orderingFigure(`${slower} - ${faster}, mean round trip (must be > 0)`, sm, fm, "ms");
  const row = targetRow(figure, quick, { name, measured: `${slower} ${sm} ms, ${faster} ${fm} ms (mean of ${s!.roundTripMs!.count})` });
  const text = `command round trip mean: ${slower} ${sm} ms ${row.verdict === "met" ? ">" : "<="} ${faster} ${fm} ms (p50 ${s!.roundTripMs!.p50} vs ${f!.roundTripMs!.p50} ms): ${row.verdict === "met" ? "holds" : "DOES NOT HOLD"}`;
  return { figure, row: { ...row, target, note: text }, text };
}

export async function topologyLatencyBench(ctx: BenchContext, s: LatencySettings): Promise<BenchOutcome> {
  say(`topology-latency: ${s.devices} devices per topology (${s.topologies.join(", ")}), ${s.samples} commands each, interleaved`);
  const results = await measureTopologyLatency(await ctx.lab(), s);
  const ordering = roundTripOrdering(results, "icg", "reverse-proxy", ctx.quick, "IGEL: the ICG adds latency");
  const measured = results.filter((t) => t.measured);
  const figures: Figure[] = [
    ...measured.flatMap((t) => (["mean", "p50", "p95", "p99"] as const).map((k) => ({ name: `${t.topology}: command round trip ${k}`, value: t.roundTripMs![k]!, unit: "ms" }))),
    ...(ordering.figure ? [ordering.figure] : []),
  ];
  const header = ["topology", "devices", "round trip mean", "p50", "p95", "p99", "POST → device executed, mean ms"];
  const rows = results.map((t) =>
    t.measured
      ? [t.topology, String(t.devices), `${t.roundTripMs!.mean}`, `${t.roundTripMs!.p50}`, `${t.roundTripMs!.p95}`, `${t.roundTripMs!.p99}`, `${t.deliveryMs!.mean}`]
      : [t.topology, String(t.devices), "not measured", "", "", "", t.reason ?? ""],
  );
  process.stdout.write(`\ntopology-latency (ms, UMS record finishedAt - queuedAt)\n${textTable(header, rows)}`);
  publish(ctx, "topology-latency", figures, { settings: s, results, ordering: ordering.text });
  say(ordering.text);
  return {
    section: {
      id: "topology-latency",
      title: `Command round trip per topology (${s.devices} devices each, ${s.samples} commands one at a time)`,
      notes: [
        "Every topology runs at once with the same device count; one command at a time per topology, interleaved across topologies in a shuffled order each round, so all see the same background load. The figure is the UMS's own record (finishedAt − queuedAt, ms resolution; the mean over many samples is the figure compared).",
        ordering.text,
        ...results.filter((t) => !t.measured).map((t) => `${t.topology}: not measured — ${t.reason}`),
      ],
      charts: [{ title: "Command round trip, one command at a time (UMS record)", unit: "ms", series: ["mean", "p50", "p95"], groups: measured.map((t) => ({ label: t.topology, values: [t.roundTripMs!.mean!, t.roundTripMs!.p50!, t.roundTripMs!.p95!] })) }],
      tables: [{ caption: "ms", header, rows }],
      figures,
    },
    targets: [ordering.row],
  };
}
