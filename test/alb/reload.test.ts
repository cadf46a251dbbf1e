import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { stringify } from "yaml";
import { AlbEmulator } from "../../simulator/alb";
import type { AlbEvent, StartedAlbEmulator } from "../../simulator/alb";
import type { CertificateFiles, LabPki } from "../../simulator/pki/lab-pki";
import { createDeviceCa, issueDeviceCertificate, renewWebCertificate, revokeInCrl, DeviceCaFiles } from "../../simulator/pki/rotation";
import { loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget } from "./helpers/echo-target";
import { logLines } from "./helpers/client";

/**
 * A running emulator picks up a re-synthesized stack without a restart (stack-reloader.ts): the
 * trust store bundle, its CRL and the web certificate change for new handshakes, while a
 * connection already established keeps going (scenarios/assumptions.ts "trust-store-update-sessions").
 */

let pki: LabPki;
let dir: string;
let target: EchoTarget;
let alb: StartedAlbEmulator;
let newCa: DeviceCaFiles;
let newDevice: CertificateFiles;
let oldDevice: CertificateFiles & { serialHex: string };
const events: AlbEvent[] = [];
const files = { bundle: "", crl: "", web: { privateKey: "", headOnlyBody: "", entireChain: "" } };

/** Writes the config over the current files and synthesizes into the same directory, as `ums-edge synth` again would. */
async function synth(): Promise<string> {
  const file = path.join(dir, "ums-edge.yaml");
  fs.writeFileSync(
    file,
    stringify({
      project: "ums-edge",
      region: "eu-central-1",
      network: { vpcId: "vpc-0123456789abcdef0", albSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"], deviceCidrs: ["0.0.0.0/0"] },
      cluster: { fqdn: "ums.lab.test" },
      certificates: { clientCaChain: files.bundle, ...(files.crl ? { crl: files.crl } : {}), web: files.web },
      stacks: [{ variant: "ums-alb-verify" }],
    }),
  );
  return synthesize(await loadConfig(file), path.join(dir, "cdktf.out")).stacks["ums-alb-verify"];
}

/** Waits for the next reload event after `from` events. */
async function nextReload(from: number, timeoutMs = 8000): Promise<AlbEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = events.slice(from).find((x) => x.kind === "stack-reloaded" || x.kind === "stack-reload-refused");
    if (e) return e;
    if (Date.now() > deadline) throw new Error("no reload within the time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An open TLS connection to listener 8443 with `cert`: resolves with the socket, or rejects with the alert. */
function connect(cert: CertificateFiles): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const url = new URL(alb.listenerUrl(8443));
    const s = tls.connect({ host: url.hostname, port: Number(url.port), servername: "ums.lab.test", rejectUnauthorized: false, key: fs.readFileSync(cert.key), cert: fs.readFileSync(cert.chain) });
    s.once("error", reject);
    // TLS 1.3: a refused certificate arrives as an alert after the handshake; a request flushes it out.
    s.once("secureConnect", () => {
      get(s).then(
        () => resolve(s),
        (e) => reject(e),
      );
    });
  });
}

/** One keep-alive request on an open connection; resolves with the status line. */
function get(s: tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      // The head is enough (a body left over from an earlier answer comes first, so no anchor).
      const m = /HTTP\/1\.1 (\d{3})[^\r]*\r\n[\s\S]*?\r\n\r\n/.exec(text);
      if (m) {
        s.off("data", onData);
        s.off("error", reject);
        resolve(m[1]);
      }
    };
    s.on("data", onData);
    s.once("error", reject);
    s.once("end", () => reject(new Error(`connection closed after: ${text.slice(0, 200)}`)));
    s.write("GET /device-connector/v1/onboard HTTP/1.1\r\nHost: ums.lab.test\r\nConnection: keep-alive\r\n\r\n");
  });
}

beforeAll(async () => {
  pki = await testLabPki();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-reload-"));
  files.bundle = path.join(dir, "bundle.pem");
  files.crl = path.join(dir, "crl.pem");
  fs.copyFileSync(pki.clientCaChain, files.bundle);
  fs.copyFileSync(pki.crl, files.crl);
  files.web = { privateKey: pki.web.privateKey, headOnlyBody: pki.web.headOnlyBody, entireChain: pki.web.entireChain };
  newCa = await createDeviceCa(path.join(dir, "new-ca"), "Rotated");
  newDevice = await issueDeviceCertificate(newCa, path.join(dir, "new-device"), "UNIT-NEW-CA");
  oldDevice = await issueDeviceCertificate({ ...pki.deviceCa, presented: pki.deviceCa.chain }, path.join(dir, "old-device"), "UNIT-OLD-CA");
  target = await startEchoTarget(pki);
  alb = await new AlbEmulator({ stackDir: await synth(), target: target.address, ports: { 8443: 0, 443: 0 }, logsDir: path.join(dir, "logs"), stackPollMs: 100, onEvent: (e) => events.push(e) }).start();
}, 60_000);

afterAll(async () => {
  await alb?.stop();
  await target?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("a re-synthesized stack reaches the running emulator", () => {
  test("CA rotation: bundle old+new admits both, then old removed refuses old devices at their next connect while their open connection stays", async () => {
    const held = await connect(oldDevice);
    await expect(connect(newDevice)).rejects.toThrow(/unknown ca/);

    let mark = events.length;
    fs.writeFileSync(files.bundle, fs.readFileSync(pki.clientCaChain, "utf8") + fs.readFileSync(newCa.chain, "utf8"));
    await synth();
    const overlap = await nextReload(mark);
    expect(overlap).toMatchObject({ kind: "stack-reloaded", changes: [expect.objectContaining({ listenerPort: 8443, what: "trustStore" })] });
    const fromNew = await connect(newDevice);
    const fromOld = await connect(oldDevice);
    fromNew.destroy();
    fromOld.destroy();

    mark = events.length;
    // The old CA's CRL leaves with it (a trust store's CRL must come from one of its CAs).
    fs.writeFileSync(files.bundle, fs.readFileSync(newCa.chain, "utf8"));
    files.crl = "";
    await synth();
    expect((await nextReload(mark)).kind).toBe("stack-reloaded");
    await expect(connect(oldDevice)).rejects.toThrow(/unknown ca/);
    (await connect(newDevice)).destroy();
    // The connection made before the rotation still carries requests.
    expect(await get(held)).toBe("200");
    held.destroy();
    await alb.flushLogs();
    const statuses = logLines(alb.connectionLogDir, "connection").map((f) => f[10]);
    expect(statuses).toContain("Failed:ClientCertUntrusted");
  }, 60_000);

  test("CRL update: a device revoked since is refused at its next connect (ClientCertCrlHit)", async () => {
    fs.writeFileSync(files.bundle, fs.readFileSync(pki.clientCaChain, "utf8"));
    files.crl = path.join(dir, "crl.pem");
    const mark = events.length;
    await synth();
    await nextReload(mark);
    const held = await connect(oldDevice);
    const mark2 = events.length;
    revokeInCrl(files.crl, pki.deviceCa, oldDevice.serialHex);
    await synth();
    expect(await nextReload(mark2)).toMatchObject({ kind: "stack-reloaded", changes: [expect.objectContaining({ what: "revocations" })] });
    await expect(connect(oldDevice)).rejects.toThrow(/certificate revoked/);
    expect(await get(held)).toBe("200");
    held.destroy();
  }, 60_000);

  test("web certificate renewal: new handshakes get the new certificate; an open connection keeps going", async () => {
    const held = await connect(pki.devices.good);
    const before = new X509Certificate(held.getPeerX509Certificate()!.raw);
    const renewed = await renewWebCertificate(path.join(dir, "web2"), ["ums.lab.test", "localhost"]);
    files.web = { privateKey: renewed.privateKey, headOnlyBody: renewed.headOnlyBody, entireChain: renewed.entireChain };
    const mark = events.length;
    await synth();
    expect(await nextReload(mark)).toMatchObject({ kind: "stack-reloaded", changes: expect.arrayContaining([expect.objectContaining({ what: "certificate" })]) });
    const fresh = await connect(pki.devices.good);
    const after = fresh.getPeerX509Certificate()!;
    expect(after.fingerprint256).toBe(new X509Certificate(fs.readFileSync(renewed.headOnlyBody)).fingerprint256);
    expect(after.fingerprint256).not.toBe(before.fingerprint256);
    fresh.destroy();
    expect(await get(held)).toBe("200");
    held.destroy();
  }, 60_000);

  test("an unusable trust store is refused: the listener keeps the one it had", async () => {
    const bundleAsset = fs
      .readdirSync(path.join(dir, "cdktf.out", "stacks", "ums-alb-verify", "assets"), { recursive: true, withFileTypes: true })
      .find((d) => d.isFile() && /client-ca-chain|bundle/.test(d.name));
    expect(bundleAsset).toBeDefined();
    fs.writeFileSync(path.join(bundleAsset!.parentPath, bundleAsset!.name), "not a PEM bundle\n");
    await expect(alb.reload()).rejects.toThrow(/trust store/);
    expect(events.filter((e) => e.kind === "stack-reload-refused").length).toBeGreaterThan(0);
    (await connect(pki.devices.good)).destroy();
  }, 30_000);
});
