import * as fs from "node:fs";
import type { Component, Outcome } from "../outcome";
import { answeredBy, httpsGet, ProbeAnswer, ProbeTarget } from "../probes";
import { tlsTerminator } from "../context";
import { traversalTargets } from "../traversal-shapes";
import type { Flow } from "./flow";
import type { ScenarioContext } from "../context";

/**
 * Dot-segment and encoded traversal past the allow-list: every shape of traversal-shapes.ts, sent
 * as it is on every device-facing listener (with and without a device certificate where both
 * exist). Any answer that is the IMI server status means the front let a traversal through to the
 * UMS API (outcome ok: the expected outcome is a refusal). Otherwise the outcome is the refusal of
 * the component deepest in the chain that answered, since a shape refused only by the backend got
 * past the front: the UMS before the ICG before the front.
 */

const DEPTH: Readonly<Record<Component, number>> = { alb: 0, nginx: 0, icg: 1, ums: 2 };

export interface TraversalAnswer {
  readonly listener: string;
  readonly target: string;
  readonly answer: ProbeAnswer;
  /** The IMI API answered: the traversal reached the UMS. */
  readonly reached: boolean;
}

/** The server status JSON of the IMI API (a reached traversal). */
export function isServerStatus(a: ProbeAnswer): boolean {
  return a.status !== undefined && a.status < 300 && /"rmGuiServerVersion"/.test(a.body ?? "");
}

/** Sends every traversal shape to every device-facing listener of the topology, a few at a time. */
export async function sendTraversals(ctx: ScenarioContext, targets: readonly string[] = traversalTargets()): Promise<TraversalAnswer[]> {
  const t = ctx.topology;
  const identity = { cert: fs.readFileSync(ctx.lab.pki.devices.good.chain, "utf8"), key: fs.readFileSync(ctx.lab.pki.devices.good.key, "utf8") };
  const base = { serverName: t.devices.serverName, trustedCaFile: t.devices.trustedCaFile };
  const listeners: Array<{ name: string; probe: ProbeTarget }> = [{ name: `${t.devices.clusterUrl} (device certificate)`, probe: { ...base, url: t.devices.clusterUrl, identity } }];
  if (t.devices.enrollmentUrl !== t.devices.clusterUrl) listeners.push({ name: `${t.devices.enrollmentUrl} (no certificate)`, probe: { ...base, url: t.devices.enrollmentUrl } });
  const jobs = listeners.flatMap((l) => targets.map((target) => ({ l, target })));
  const out: TraversalAnswer[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { l, target } = jobs[next++];
      const answer = await httpsGet(l.probe, target);
      out.push({ listener: l.name, target, answer, reached: isServerStatus(answer) });
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return out;
}

function asComponent(by: string | undefined, fallback: Component): Component {
  return by === "ums" || by === "nginx" || by === "alb" || by === "icg" ? by : fallback;
}

export const traversalFlow: Flow = async (ctx) => {
  const answers = await sendTraversals(ctx);
  const reached = answers.filter((a) => a.reached);
  if (reached.length > 0) {
    const shown = reached.slice(0, 5).map((a) => `${a.target} on ${a.listener}`);
    return { outcome: { kind: "ok" }, evidence: { status: reached[0].answer.status, by: "ums", detail: `${reached.length} of ${answers.length} traversal shapes reached the IMI API: ${shown.join("; ")}${reached.length > 5 ? "; ..." : ""}` } };
  }
  const terminator = tlsTerminator(ctx.topology);
  const counts = new Map<string, { outcome: Outcome; n: number; example: string }>();
  for (const a of answers) {
    const outcome: Outcome = a.answer.status === undefined ? { kind: "tls", by: terminator } : { kind: "http", by: asComponent(answeredBy(a.answer), terminator), status: a.answer.status };
    const key = JSON.stringify(outcome);
    const c = counts.get(key) ?? { outcome, n: 0, example: a.target };
    c.n++;
    counts.set(key, c);
  }
  const ranked = [...counts.values()].sort((x, y) => {
    const dx = x.outcome.kind === "http" ? DEPTH[x.outcome.by] : -1;
    const dy = y.outcome.kind === "http" ? DEPTH[y.outcome.by] : -1;
    return dy - dx || y.n - x.n;
  });
  const summary = ranked.map((c) => `${c.n}× ${c.outcome.kind === "http" ? `${c.outcome.status} from ${c.outcome.by}` : "TLS refusal"} (e.g. ${c.example})`).join("; ");
  return { outcome: ranked[0].outcome, evidence: { detail: `${answers.length} traversal shapes, none reached the IMI API: ${summary}` } };
};
