import * as fs from "node:fs";
import { X509Certificate } from "node:crypto";
import { DeviceFleet } from "../../device/device-fleet";
import type { LabDeviceKind } from "../../pki/lab-pki";
import { FAST_DEVICES, observeRefusal, tlsTerminator } from "../context";
import { componentLog } from "../evidence-logs";
import type { Flow } from "./flow";

/**
 * A device presenting one of the lab's certificates (good or bad) straight to the management path,
 * without onboarding: where, and how, each topology refuses it (or lets it in).
 */
export function certificateFlow(kind: LabDeviceKind): Flow {
  return async (ctx) => {
    const { topology } = ctx;
    const files = ctx.lab.pki.devices[kind];
    const serial = new X509Certificate(fs.readFileSync(files.cert)).serialNumber;
    const fleet = await new DeviceFleet({
      pki: ctx.lab.pki,
      clusterUrl: topology.devices.clusterUrl,
      serverName: topology.devices.serverName,
      trustedCaFile: topology.devices.trustedCaFile,
      identities: [{ kind }],
      maxAttempts: 1,
      ...FAST_DEVICES,
    }).start();
    try {
      await fleet.waitForSettled(20_000);
      const d = fleet.devices[0];
      if (d.state === "online") return { outcome: { kind: "ok" }, evidence: { detail: `lab-device-${kind} (serial ${serial}) accepted: management session open` } };
      if (!d.lastRefusal) return { outcome: { kind: "http", by: tlsTerminator(topology), status: 0 }, evidence: { detail: `device ended '${d.state}' without a refusal` } };
      const observed = await observeRefusal(ctx, d.lastRefusal, serial);
      const by = observed.outcome.kind === "http" || observed.outcome.kind === "close" ? observed.outcome.by : undefined;
      const log = by === "ums" || by === "icg" ? componentLog(topology, by, (e) => JSON.stringify(e).includes(`lab-device-${kind}`))[0] : undefined;
      return log ? { ...observed, evidence: { ...observed.evidence, logLine: JSON.stringify(log) } } : observed;
    } finally {
      await fleet.stop();
    }
  };
}
