import * as fs from "node:fs";
import { randomBytes } from "node:crypto";
import { onboard } from "../../device/onboarding-client";
import { generateRsaKeyPair } from "../../pki/keys";
import { observeRefusal } from "../context";
import type { Flow } from "./flow";

/**
 * One enrollment key must not take over an existing device: a device onboards, then someone else
 * with a fresh enrollment key sends a CSR for the same unit id (their own key pair). The UMS must
 * refuse it (409) unless the administrator allowed that device's re-enrollment; the attempt goes to
 * the enrollment address, through whatever front the topology has.
 */
export const reenrollmentFlow: Flow = async (ctx) => {
  const t = ctx.topology;
  const [victimKey, attackerKey] = await ctx.imi.mintEnrollmentKeys(2);
  const unitId = `TAKEOVER-${randomBytes(4).toString("hex").toUpperCase()}`;
  const trust = { caPem: fs.readFileSync(t.devices.trustedCaFile, "utf8"), serverName: t.devices.serverName };
  const common = { enrollmentUrl: t.devices.enrollmentUrl, trust, unitId, firmware: "12.6.0" };
  const victim = await onboard({ ...common, enrollmentKey: victimKey, keyPair: await generateRsaKeyPair(), mac: "00E0C5AA0001" });
  if (!victim.ok) return { outcome: { kind: "n/a" }, evidence: { detail: `the first device could not onboard: ${victim.refusal.reason}` }, skipped: "the device to take over could not onboard" };
  const attacker = await onboard({ ...common, enrollmentKey: attackerKey, keyPair: await generateRsaKeyPair(), mac: "00E0C5BB0002" });
  if (attacker.ok) {
    return { outcome: { kind: "ok" }, evidence: { status: 200, detail: `a second enrollment key re-enrolled unit ${unitId}: the device was taken over (certificate serial of the new holder issued)` } };
  }
  const observed = await observeRefusal(ctx, attacker.refusal);
  return { ...observed, evidence: { ...observed.evidence, detail: `unit ${unitId} onboarded, then a fresh enrollment key with a CSR for the same unit id: ${attacker.refusal.reason}` } };
};
