import * as fs from "node:fs";
import { X509Certificate } from "node:crypto";
import type { LabDeviceKind } from "../../pki/lab-pki";
import { oneDeviceAttempt } from "./one-device";
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
    const observed = await oneDeviceAttempt(ctx, topology, { identities: [{ kind }] }, { whenOnline: `lab-device-${kind} (serial ${serial}) accepted: management session open`, serial });
    const by = observed.outcome.kind === "http" || observed.outcome.kind === "close" ? observed.outcome.by : undefined;
    const log = by === "ums" || by === "icg" ? componentLog(topology, by, (e) => JSON.stringify(e).includes(`lab-device-${kind}`))[0] : undefined;
    return log ? { ...observed, evidence: { ...observed.evidence, logLine: JSON.stringify(log) } } : observed;
  };
}
