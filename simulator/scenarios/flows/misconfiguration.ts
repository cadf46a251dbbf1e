import { DeviceFleet } from "../../device/device-fleet";
import { startTopology } from "../../runtime/topologies/start-topology";
import type { AppConfigName } from "../../runtime/lab";
import { FAST_DEVICES, observeRefusal } from "../context";
import { componentLog } from "../evidence-logs";
import type { Flow } from "./flow";

/**
 * The topology again, with a UMS whose application.yml is wrong in a way users get wrong: a device
 * onboards, then its management session must be refused with a reason that names the mistake.
 * Runs after the main topology has stopped (it needs the same ports in the namespace runtime).
 */
export function misconfiguredUmsFlow(appConfig: AppConfigName): Flow {
  return async (ctx) => {
    const topology = await startTopology(ctx.topology.name, ctx.topology.runtime, ctx.lab, { umsAppConfig: appConfig, instance: appConfig });
    try {
      const imi = await topology.runtime.adminClient(topology.admin, topology.admin.side);
      const keys = await imi.mintEnrollmentKeys(1);
      const fleet = await new DeviceFleet({
        pki: ctx.lab.pki,
        clusterUrl: topology.devices.clusterUrl,
        enrollmentUrl: topology.devices.enrollmentUrl,
        serverName: topology.devices.serverName,
        trustedCaFile: topology.devices.trustedCaFile,
        count: 1,
        enrollmentKeys: keys,
        unitBase: 0xf000,
        maxAttempts: 1,
        ...FAST_DEVICES,
      }).start();
      try {
        await fleet.waitForSettled(20_000);
        const d = fleet.devices[0];
        if (d.state === "online") return { outcome: { kind: "ok" }, evidence: { detail: `with ${appConfig}.yml the device still got a management session` } };
        if (!d.lastRefusal) return { outcome: { kind: "http", by: "ums", status: 0 }, evidence: { detail: `device ended '${d.state}'` } };
        const observed = await observeRefusal({ ...ctx, topology }, d.lastRefusal);
        const log = componentLog(topology, "ums", (e) => typeof e.reason === "string" && e.event !== "started")[0];
        return { ...observed, evidence: { ...observed.evidence, logLine: log ? JSON.stringify(log) : undefined, detail: `application.yml: ${appConfig}.yml` } };
      } finally {
        await fleet.stop();
      }
    } finally {
      await topology.stop();
    }
  };
}
