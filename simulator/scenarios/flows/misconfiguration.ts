import { startTopology } from "../../runtime/topologies/start-topology";
import type { AppConfigSource } from "../../runtime/topologies/definitions";
import { oneDeviceAttempt } from "./one-device";
import { componentLog } from "../evidence-logs";
import type { Flow } from "./flow";
import { untilFrontServes } from "./health";

/**
 * The topology again, with a UMS whose application.yml is wrong in a way users get wrong: a device
 * onboards, then its management session must be refused with a reason that names the mistake.
 * Runs after the main topology has stopped (it needs the same ports in the namespace runtime).
 */
export function misconfiguredUmsFlow(appConfig: AppConfigSource): Flow {
  return async (ctx) => {
    const topology = await startTopology(ctx.topology.name, ctx.topology.runtime, ctx.lab, { umsAppConfig: appConfig, instance: appConfig });
    try {
      // Its own instance: the front must serve (target healthy) before a device's outcome means anything.
      const serving = await untilFrontServes(topology);
      if (serving && serving.outcome.kind !== "ok") return serving;
      const imi = await topology.runtime.adminClient(topology.admin, topology.admin.side);
      const keys = await imi.mintEnrollmentKeys(1);
      const observed = await oneDeviceAttempt(ctx, topology, { enrollmentKeys: keys, unitBase: 0xf000 }, { whenOnline: `with ${appConfig}.yml the device still got a management session` });
      const log = componentLog(topology, "ums", (e) => typeof e.reason === "string" && e.event !== "started")[0];
      return { ...observed, evidence: { ...observed.evidence, logLine: log ? JSON.stringify(log) : undefined, detail: `application.yml: ${appConfig}.yml` } };
    } finally {
      await topology.stop();
    }
  };
}
