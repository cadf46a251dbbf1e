import { DeviceFleet, DeviceFleetOptions } from "../../device/device-fleet";
import type { StartedTopology } from "../../runtime/topologies/topology";
import type { Lab } from "../../runtime/lab";
import { FAST_DEVICES, observeRefusal, tlsTerminator, Observation, ScenarioContext } from "../context";

/** Fleet options every flow shares: the topology's device endpoints and the lab's PKI. */
export function fleetOptions(lab: Lab, topology: StartedTopology, extra: Partial<DeviceFleetOptions> = {}): DeviceFleetOptions {
  return {
    pki: lab.pki,
    clusterUrl: topology.devices.clusterUrl,
    enrollmentUrl: topology.devices.enrollmentUrl,
    serverName: topology.devices.serverName,
    trustedCaFile: topology.devices.trustedCaFile,
    ...FAST_DEVICES,
    ...extra,
  };
}

export interface OneDeviceCheck {
  /** What an open management session means here (the evidence when it gets one). */
  readonly whenOnline: string;
  /** The certificate serial, to find its connection-log record. */
  readonly serial?: string;
  /** A connection-log mark taken before the attempt (a device without a certificate has no serial). */
  readonly logMark?: number;
}

/** One device, one attempt (onboarding and/or connecting): ok when it is online, else how it was refused. */
export async function oneDeviceAttempt(ctx: ScenarioContext, topology: StartedTopology, extra: Partial<DeviceFleetOptions>, check: OneDeviceCheck): Promise<Observation> {
  const fleet = await new DeviceFleet(fleetOptions(ctx.lab, topology, { count: extra.identities ? undefined : 1, maxAttempts: 1, ...extra })).start();
  try {
    await fleet.waitForSettled(20_000);
    const d = fleet.devices[0];
    if (d.state === "online") return { outcome: { kind: "ok" }, evidence: { detail: check.whenOnline } };
    if (d.lastRefusal) return observeRefusal({ ...ctx, topology }, d.lastRefusal, check.serial, check.logMark);
    return { outcome: { kind: "http", by: tlsTerminator(topology), status: 0 }, evidence: { detail: `device ended '${d.state}' without a refusal` } };
  } finally {
    await fleet.stop();
  }
}
