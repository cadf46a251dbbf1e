import { ROUTES } from "../../protocol/routes";
import type { Flow } from "./flow";
import type { Observation } from "../context";
import type { StartedTopology } from "../../runtime/topologies/topology";
import { albEvents } from "../evidence-logs";
import { httpsGet } from "../probes";

/**
 * The target health check: behind an ALB, the emulator's own health checker must turn the target
 * healthy (its events say so); elsewhere the health path answers as design section 2 expects.
 */
export const healthFlow: Flow = async (ctx) => {
  const { topology } = ctx;
  const served = await untilFrontServes(topology);
  if (served) return served;
  const a = await ctx.imi.request("GET", ROUTES.info);
  return a.status === 200
    ? { outcome: { kind: "ok" }, evidence: { status: 200, detail: `${ROUTES.info}: ${a.text.slice(0, 120)}` } }
    : { outcome: { kind: "http", by: "ums", status: a.status }, evidence: { status: a.status, reason: a.text.slice(0, 200) } };
};

/**
 * Waits until the front serves devices: an ALB's target healthy (a target still `initial` is never
 * routed: AWS, "Target group health checks"), an ICG with its UMS connected. Undefined for fronts
 * that need no wait. Flows that start their own topology call it first, as the health row does.
 */
export async function untilFrontServes(topology: StartedTopology): Promise<Observation | undefined> {
  if (topology.deviceFacing === "alb") {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const healthy = albEvents(topology).filter((e) => e.kind === "target-health" && e.to === "healthy").pop();
      if (healthy) return { outcome: { kind: "ok" }, evidence: { by: "alb", detail: `target ${healthy.target} healthy: ${healthy.reason}`, logLine: JSON.stringify(healthy) } };
      if (Date.now() > deadline) {
        const last = albEvents(topology).filter((e) => e.kind === "target-health").pop();
        return { outcome: { kind: "http", by: "alb", status: 503 }, evidence: { by: "alb", reason: last ? String(last.reason) : "no health check result" } };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (topology.deviceFacing === "icg") {
    // /usg/check-status says "warn" until the UMS has connected out to the ICG.
    const target = { url: topology.devices.clusterUrl, serverName: topology.devices.serverName, trustedCaFile: topology.devices.trustedCaFile };
    const deadline = Date.now() + 15_000;
    for (;;) {
      const a = await httpsGet(target, ROUTES.icgStatus);
      const status = a.body ? (JSON.parse(a.body) as { status?: string }).status : undefined;
      if (a.status === 200 && status === "ok") return { outcome: { kind: "ok" }, evidence: { status: 200, detail: `${ROUTES.icgStatus}: ${a.body}` } };
      if (Date.now() > deadline) return { outcome: { kind: "http", by: "icg", status: a.status ?? 0 }, evidence: { status: a.status, reason: a.body ?? a.error } };
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return undefined;
}
