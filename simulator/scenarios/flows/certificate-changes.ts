import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import type { ListenerFiles } from "../../alb/alb-runtime";
import { DeviceFleet, DeviceIdentityInput, StartedDeviceFleet } from "../../device/device-fleet";
import { createDeviceCa, issueDeviceCertificate, renewWebCertificate, revokeInCrl, KeySource } from "../../pki/rotation";
import { KeyPool } from "../../pki/keys";
import { writePublicFile } from "../../pki/files";
import type { CertificateFiles } from "../../pki/lab-pki";
import { STACK_VARIANT } from "../../../core/stack-variants";
import { certificateLab, CertificateLab } from "../../runtime/certificate-lab";
import { startTopology } from "../../runtime/topologies/start-topology";
import type { StartedTopology } from "../../runtime/topologies/topology";
import type { Observation, ScenarioContext } from "../context";
import { albEvents, componentLog, connectionLogMark } from "../evidence-logs";
import { fleetOptions, oneDeviceAttempt } from "./one-device";
import type { Flow } from "./flow";
import { untilFrontServes } from "./health";

/**
 * Certificates changing under a running deployment (issue 15 §2), on a topology instance of its own
 * started from a private copy of the lab (runtime/certificate-lab.ts), with one device holding a
 * management session throughout:
 *   crl-update        a device revoked while the topology runs is refused at its next connect: the
 *                     UMS re-reads its CRL (and tells the ICG), nginx reloads, the ALB's stack is
 *                     synthesized again with the new CRL (AddTrustStoreRevocations on AWS);
 *   web-cert-renewal  (ALB fronts) the web certificate renewed and synthesized again (an ACM re-import):
 *                     a device trusting only the renewed certificate's root connects (new handshakes
 *                     get it), the held session stays;
 *   ca-rotation       (verify listeners) the recipe of docs/rotation.md: the UMS trusts the new device
 *                     CA, the trust store bundle becomes old + new (both admitted), then the old CA
 *                     leaves the bundle while a device of the old CA has not moved: that device is
 *                     locked out at its next connect (Failed:ClientCertUntrusted), the moved one is not.
 * The three share one run per topology (one start, one held session); each row reads its part.
 */

export type CertificateChange = "crl-update" | "web-cert-renewal" | "ca-rotation";

/** Per row: what it observed, or the error that stopped its part of the run (the row fails with it). */
type Results = Partial<Record<CertificateChange, Observation | Error>>;
/** Keys a run draws from the lab's pool (round-robin beyond). */
const KEYS = 12;
const runs = new WeakMap<ScenarioContext, Promise<Results>>();

export function certificateChangeFlow(change: CertificateChange): Flow {
  return async (ctx) => {
    if (ctx.lab.user) return { outcome: { kind: "n/a" }, evidence: {}, skipped: "certificate changes run on the lab's own PKI, not on an administrator's config" };
    const runtime = ctx.topology.runtime;
    if (!runtime.seesFileChanges) {
      return { outcome: { kind: "n/a" }, evidence: { detail: "each component got a copy of the lab's files when it started" }, skipped: `not provable on the ${runtime.name} runtime (${runtime.describe()}): a certificate changed on this machine does not reach the components' copies; run on the loopback or netns runtime to prove it` };
    }
    let run = runs.get(ctx);
    if (!run) runs.set(ctx, (run = runCertificateChanges(ctx)));
    const result = (await run)[change];
    if (result instanceof Error) throw result;
    return result ?? { outcome: { kind: "n/a" }, evidence: {}, skipped: `${change} does not apply to ${ctx.topology.name}` };
  };
}

/** Log counts of everything that reports having applied a change: wait for them to grow. */
interface Marks {
  readonly alb: number;
  readonly ums: number;
  readonly icg: number;
  readonly nginx: number;
}

function marks(t: StartedTopology): Marks {
  const nginxNotes = t.nginxLogs && fs.existsSync(t.nginxLogs.error) ? fs.readFileSync(t.nginxLogs.error, "utf8").split("ums-edge: reloaded").length - 1 : 0;
  return {
    alb: albEvents(t).filter((e) => e.kind === "stack-reloaded" || e.kind === "stack-reload-refused").length,
    ums: componentLog(t, "ums", (e) => e.event === "device-trust-reloaded").length,
    icg: componentLog(t, "icg", (e) => e.event === "device-trust-updated").length,
    nginx: nginxNotes,
  };
}

/** A listener file whose change the emulator's `stack-reloaded` event names. */
type AlbChange = keyof ListenerFiles;

/**
 * Waits until each component named has reported the change since `before`; a refused ALB reload is
 * an error. The ALB counts only a reload that changed `albChange`: the emulator may reload twice for
 * one synthesis (a second pass with nothing changed), and that late pass must not pass for the next
 * step's change (it did, once, and a device of a CA already removed was let in by the old bundle).
 */
async function applied(t: StartedTopology, before: Marks, who: readonly (keyof Marks)[], albChange?: AlbChange, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = marks(t);
    let albDone = now.alb > before.alb;
    if (who.includes("alb") && albDone) {
      const since = albEvents(t).filter((e) => e.kind === "stack-reloaded" || e.kind === "stack-reload-refused").slice(before.alb);
      const refused = since.find((e) => e.kind === "stack-reload-refused");
      if (refused) throw new Error(`the ALB emulator refused the re-synthesized stack: ${String(refused.reason)}`);
      if (albChange) albDone = since.some((e) => ((e.changes ?? []) as { what: string }[]).some((c) => c.what === albChange));
    }
    const missing = who.filter((w) => (w === "alb" ? !albDone : now[w] <= before[w]));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the change did not reach ${missing.join(", ")} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function identity(files: CertificateFiles): DeviceIdentityInput {
  return { certFile: files.chain, keyFile: files.key };
}

async function runCertificateChanges(ctx: ScenarioContext): Promise<Results> {
  const t0 = performance.now();
  const name = ctx.topology.name;
  const d = ctx.topology.definition;
  const mode = d.stack ? STACK_VARIANT[d.stack].mtlsMode : undefined;
  const cl = await certificateLab(ctx.lab, name);
  const topology = await startTopology(name, ctx.topology.runtime, cl.lab);
  const sub: ScenarioContext = { ...ctx, topology, lab: cl.lab };
  const pki = cl.lab.pki;
  const oldCa = { cert: pki.deviceCa.cert, key: pki.deviceCa.key, presented: pki.deviceCa.chain };
  // Keys from the lab's pool (the main fleet has filled it): a run needs about ten, generating them would cost seconds.
  const pool = new KeyPool(pki.keyPool);
  await pool.ensure(KEYS);
  let drawn = 0;
  const keys: KeySource = async () => pool.key(drawn++, KEYS);
  const front = d.front === "alb" ? (["alb"] as const) : d.front === "nginx" ? (["nginx"] as const) : [];
  const umsSide = d.backend === "icg" ? (["ums", "icg"] as const) : (["ums"] as const);
  const results: Results = {};
  let held: StartedDeviceFleet | undefined;
  try {
    const notServing = await untilFrontServes(topology);
    if (notServing && notServing.outcome.kind !== "ok") throw new Error(`the topology's front did not serve: ${notServing.evidence.detail ?? notServing.evidence.reason ?? JSON.stringify(notServing.outcome)}`);
    // A device of the old CA holding a management session throughout: is any session dropped?
    held = await new DeviceFleet(fleetOptions(cl.lab, topology, { identities: [identity(await issueDeviceCertificate(oldCa, path.join(cl.dir, "held"), "CHANGES-HELD", keys))], maxAttempts: 1000 })).start();
    await held.waitForOnline(1, 20_000);
    const heldDevice = held.devices[0];
    const heldState = () => `held session: ${heldDevice.state}, ${heldDevice.stats.reconnects} reconnect(s) since it came online`;
    // Devices trust the web root; after a renewal, the renewed one too.
    let trustedCaFile = topology.devices.trustedCaFile;
    const attempt = (files: CertificateFiles & { serialHex: string }, whenOnline: string) =>
      oneDeviceAttempt(sub, topology, { identities: [identity(files)], trustedCaFile }, { whenOnline, serial: files.serialHex, logMark: connectionLogMark(topology) });
    const step = async (change: CertificateChange, run: () => Promise<Observation>) => {
      try {
        results[change] = await run();
      } catch (e) {
        results[change] = e as Error;
      }
    };
    const mustBeOnline = async (o: Promise<Observation>, step: string) => {
      const seen = await o;
      if (seen.outcome.kind !== "ok") throw new Error(`${step}: expected the device to get a management session, got ${JSON.stringify(seen.outcome)} (${seen.evidence.reason ?? seen.evidence.detail ?? ""})`);
    };

    // --- CRL update: every topology.
    await step("crl-update", async () => {
      const victim = await issueDeviceCertificate(oldCa, path.join(cl.dir, "revoked"), "CHANGES-REVOKED", keys);
      await mustBeOnline(attempt(victim, "online"), "before its revocation");
      const before = marks(topology);
      revokeInCrl(pki.crl, oldCa, victim.serialHex);
      if (d.front === "alb") await cl.apply({});
      // Only a verify listener serves the CRL (a passthrough stack reloads with nothing changed).
      await applied(topology, before, [...front, ...umsSide], mode === "verify" ? "revocations" : undefined);
      const revoked = await attempt(victim, `unit CHANGES-REVOKED (serial ${victim.serialHex}) revoked while the topology ran, and still accepted at its next connect`);
      return { ...revoked, evidence: { ...revoked.evidence, detail: `${revoked.evidence.detail ?? ""}; revoked after a first session, refused at the next connect; ${heldState()}` } };
    });

    // --- Web certificate renewal: ALB fronts (the listener's ACM certificate re-imported).
    if (d.front === "alb") await step("web-cert-renewal", async () => {
      const renewed = await renewWebCertificate(path.join(cl.dir, "web-renewed"), [pki.fqdn, "localhost"], keys);
      const trust = path.join(cl.dir, "devices-trust.pem");
      writePublicFile(trust, fs.readFileSync(topology.devices.trustedCaFile, "utf8") + fs.readFileSync(renewed.rootCert, "utf8"));
      const reconnectsBefore = heldDevice.stats.reconnects;
      const before = marks(topology);
      await cl.apply({ web: { privateKey: renewed.privateKey, headOnlyBody: renewed.headOnlyBody, entireChain: renewed.entireChain } });
      await applied(topology, before, ["alb"], "certificate");
      // A device trusting only the renewed certificate's root gets a session only if new handshakes present the renewed certificate.
      const expected = new X509Certificate(fs.readFileSync(renewed.headOnlyBody));
      trustedCaFile = renewed.rootCert;
      const fresh = await issueDeviceCertificate(oldCa, path.join(cl.dir, "after-renewal"), "CHANGES-AFTER-RENEWAL", keys);
      const after = await attempt(fresh, `a device trusting only the renewed certificate's root got a management session: new handshakes get the renewed certificate (serial ${expected.serialNumber})`);
      trustedCaFile = trust;
      const dropped = heldDevice.state !== "online" || heldDevice.stats.reconnects !== reconnectsBefore;
      return dropped && after.outcome.kind === "ok"
        ? { outcome: { kind: "close", by: "alb", code: 0 }, evidence: { detail: `the renewal dropped the held session (${heldState()})` } }
        : { ...after, evidence: { ...after.evidence, detail: `${after.evidence.detail ?? ""}; ${heldState()}` } };
    });

    // --- Device CA rotation: verify listeners (the trust store is the ALB's).
    if (mode === "verify") await step("ca-rotation", () => rotateDeviceCa(cl, topology, { oldCa, umsSide, attempt, mustBeOnline, heldState, keys }));
  } finally {
    await held?.stop().catch(() => undefined);
    await topology.stop();
  }
  // What these rows add to a simulation: their own topology's start, the changes, the stop.
  const note = `certificate-change run on its own ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s for ${Object.keys(results).join(", ")}`;
  for (const [k, v] of Object.entries(results)) if (!(v instanceof Error)) results[k as CertificateChange] = { ...v, note: v.note ? `${v.note}; ${note}` : note };
  return results;
}

interface RotationSteps {
  readonly oldCa: { readonly cert: string; readonly key: string; readonly presented: string };
  readonly umsSide: readonly ("ums" | "icg")[];
  readonly attempt: (files: CertificateFiles & { serialHex: string }, whenOnline: string) => Promise<Observation>;
  readonly mustBeOnline: (o: Promise<Observation>, step: string) => Promise<void>;
  readonly heldState: () => string;
  readonly keys: KeySource;
}

/** docs/rotation.md, steps 1-2, then step 4 before step 3 (a device not moved): the lockout the row expects. */
async function rotateDeviceCa(cl: CertificateLab, topology: StartedTopology, s: RotationSteps): Promise<Observation> {
  const pki = cl.lab.pki;
  const newCa = await createDeviceCa(path.join(cl.dir, "new-device-ca"), "Rotated UMS Lab", s.keys);
  const oldChain = fs.readFileSync(pki.clientCaChain, "utf8");
  const newChain = fs.readFileSync(newCa.chain, "utf8");
  // 1. The UMS knows the new CA (it issues from it now); the ICG hears it over the tunnel.
  let before = marks(topology);
  writePublicFile(pki.clientCaChain, oldChain + newChain);
  await applied(topology, before, s.umsSide);
  // 2. The trust store bundle: old + new CA (a new S3 object version).
  before = marks(topology);
  await cl.apply({ bundlePem: oldChain + newChain });
  await applied(topology, before, ["alb"], "trustStore");
  const moved = await issueDeviceCertificate(newCa, path.join(cl.dir, "moved"), "CHANGES-NEW-CA", s.keys);
  const stayed = await issueDeviceCertificate(s.oldCa, path.join(cl.dir, "not-moved"), "CHANGES-OLD-CA", s.keys);
  await s.mustBeOnline(s.attempt(moved, "online"), "step 2 (bundle old + new CA): a device of the new CA");
  await s.mustBeOnline(s.attempt(stayed, "online"), "step 2 (bundle old + new CA): a device of the old CA");
  // 4 before 3: the old CA (and its CRL) leave the bundle while CHANGES-OLD-CA still holds an old-CA certificate.
  before = marks(topology);
  await cl.apply({ bundlePem: newChain, crl: false });
  await applied(topology, before, ["alb"], "trustStore");
  await s.mustBeOnline(s.attempt(moved, "online"), "step 4 (bundle: new CA only): a device of the new CA");
  const locked = await s.attempt(stayed, `unit CHANGES-OLD-CA (old CA) still got a management session after its CA left the trust store bundle`);
  return {
    ...locked,
    evidence: {
      ...locked.evidence,
      detail: `bundle old+new: devices of both CAs admitted; old CA removed before CHANGES-OLD-CA moved: ${locked.evidence.detail ?? ""} (a lockout; the device of the new CA stays admitted); ${s.heldState()}`,
    },
  };
}
