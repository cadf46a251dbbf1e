import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import forge from "node-forge";
import { initLabPki, loadLabPki, LabPki, BAD_DEVICE_KINDS, readChain } from "../../simulator/pki/lab-pki";
import { ChainVerifier, ChainRefusal } from "../../simulator/pki/chain-verify";
import { x509Version } from "../../core/x509";
import { parseCrls } from "../../core/crl-reader";
import { tempDir } from "../helpers/config";

let pki: LabPki;
let dir: string;
beforeAll(async () => {
  dir = tempDir("ums-edge-pki-");
  pki = await initLabPki(dir, { fqdn: "ums.example.test" });
});

const cert = (file: string) => new X509Certificate(fs.readFileSync(file));

test("writes the files the IGEL guide and the UMS export, under the names they use", () => {
  for (const name of ["client-ca-chain.pem", "crl.pem", "private_key.pem", "headonly-body.pem", "entire_chain.pem", "pki.json"]) {
    expect(fs.existsSync(path.join(dir, name))).toBe(true);
  }
});

test("every private key is written 0600 and no public file holds a key", () => {
  const all = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  const keys = all.filter((f) => fs.readFileSync(f, "utf8").includes("PRIVATE KEY"));
  expect(keys.length).toBeGreaterThanOrEqual(13);
  for (const f of keys) expect([f, fs.statSync(f).mode & 0o777]).toEqual([f, 0o600]);
  for (const f of all.filter((f) => !keys.includes(f))) expect(fs.statSync(f).mode & 0o077).not.toBe(0o077);
});

test("client certificate chain: the device CA issued by the root, both CAs", () => {
  const [intermediate, root] = readChain(pki.clientCaChain);
  expect(intermediate.ca && root.ca).toBe(true);
  expect(intermediate.checkIssued(root) && intermediate.verify(root.publicKey)).toBe(true);
  expect(root.verify(root.publicKey)).toBe(true);
});

test("web certificate: names the FQDN, issued by the web root; entire chain starts with the head-only body; key matches", () => {
  const body = cert(pki.web.headOnlyBody);
  const chain = readChain(pki.web.entireChain);
  expect(body.checkHost("ums.example.test")).toBe("ums.example.test");
  expect(chain[0].fingerprint256).toBe(body.fingerprint256);
  expect(body.verify(chain[1].publicKey)).toBe(true);
  expect(body.checkPrivateKey(require("node:crypto").createPrivateKey(fs.readFileSync(pki.web.privateKey)))).toBe(true);
});

test("the ICG certificate names the ICG host and chains to the web root the UMS trusts", () => {
  const icg = cert(pki.icg.cert);
  expect(icg.checkHost("icg.ums.example.test")).toBe("icg.ums.example.test");
  expect(icg.verify(cert(pki.web.rootCert).publicKey)).toBe(true);
});

test("signatures made natively over forge's to-be-signed bytes verify in forge too", () => {
  const ca = forge.pki.certificateFromPem(fs.readFileSync(pki.deviceCa.cert, "utf8"));
  const device = forge.pki.certificateFromPem(fs.readFileSync(pki.devices.good.cert, "utf8"));
  expect(ca.verify(device)).toBe(true);
});

const AWS = { maxDepth: 4, keyPolicy: "aws", requireV3: true } as const;
const EXPECTED: Record<string, { aws: ChainRefusal | "ok"; ums: ChainRefusal | "ok" }> = {
  good: { aws: "ok", ums: "ok" },
  "self-signed": { aws: "untrusted", ums: "untrusted" },
  "other-ca": { aws: "untrusted", ums: "untrusted" },
  expired: { aws: "expired", ums: "expired" },
  "not-yet-valid": { aws: "not-yet-valid", ums: "not-yet-valid" },
  revoked: { aws: "revoked", ums: "revoked" },
  "too-deep": { aws: "too-deep", ums: "ok" },
  "x509-v1": { aws: "not-v3", ums: "ok" },
  "rsa-1024": { aws: "unsupported-key", ums: "ok" },
};

test.each(["good", ...BAD_DEVICE_KINDS])("device certificate '%s': AWS policy and UMS policy verdicts", (kind) => {
  const verifier = new ChainVerifier(fs.readFileSync(pki.clientCaChain, "utf8"), fs.readFileSync(pki.crl, "utf8"));
  const chain = readChain(pki.devices[kind as keyof LabPki["devices"]].chain);
  const verdict = (policy: object) => {
    const v = verifier.verify(chain, policy);
    return v.ok ? "ok" : v.reason;
  };
  expect({ aws: verdict(AWS), ums: verdict({}) }).toEqual(EXPECTED[kind]);
});

test("a self-signed device certificate is named as such", () => {
  const verifier = new ChainVerifier(fs.readFileSync(pki.clientCaChain, "utf8"));
  expect(verifier.verify(readChain(pki.devices["self-signed"].chain))).toMatchObject({ detail: expect.stringMatching(/^'lab-device-self-signed' \(serial [0-9A-F]+\) is self-signed and not issued by a trusted CA$/) });
});

test("ignoreExpiry accepts the expired certificate but still refuses the revoked one", () => {
  const verifier = new ChainVerifier(fs.readFileSync(pki.clientCaChain, "utf8"), fs.readFileSync(pki.crl, "utf8"));
  expect(verifier.verify(readChain(pki.devices.expired.chain), { ...AWS, ignoreExpiry: true }).ok).toBe(true);
  expect(verifier.verify(readChain(pki.devices.revoked.chain), { ...AWS, ignoreExpiry: true })).toMatchObject({ ok: false, reason: "revoked" });
});

test("without the CRL the revoked certificate is accepted: revocation comes from the CRL alone", () => {
  const verifier = new ChainVerifier(fs.readFileSync(pki.clientCaChain, "utf8"));
  expect(verifier.verify(readChain(pki.devices.revoked.chain)).ok).toBe(true);
});

test("the CRL is signed by the device CA and lists exactly the revoked device", () => {
  const [crl] = parseCrls(fs.readFileSync(pki.crl, "utf8"));
  expect(crl.isSignedBy(cert(pki.deviceCa.cert))).toBe(true);
  expect(crl.isSignedBy(cert(pki.deviceCa.rootCert))).toBe(false);
  expect([...crl.revokedSerials]).toEqual([cert(pki.devices.revoked.cert).serialNumber]);
});

test("the v1 certificate is X.509 v1 and the others v3", () => {
  expect(x509Version(cert(pki.devices["x509-v1"].cert))).toBe(1);
  expect(x509Version(cert(pki.devices.good.cert))).toBe(3);
});

test("a second init reuses the PKI; force and another FQDN regenerate it", async () => {
  const again = await initLabPki(dir, { fqdn: "ums.example.test" });
  expect(again.createdAt).toBe(pki.createdAt);
  expect(fs.readFileSync(again.deviceCa.cert, "utf8")).toBe(fs.readFileSync(pki.deviceCa.cert, "utf8"));
  const other = tempDir("ums-edge-pki-");
  const first = await initLabPki(other);
  const renamed = await initLabPki(other, { fqdn: "ums.other.test" });
  expect(renamed.createdAt >= first.createdAt).toBe(true);
  expect(cert(renamed.web.headOnlyBody).checkHost("ums.other.test")).toBe("ums.other.test");
  expect(loadLabPki(other).fqdn).toBe("ums.other.test");
});

test("loadLabPki explains a directory without a PKI", () => {
  expect(() => loadLabPki(tempDir())).toThrow(/no lab PKI in .+ \(missing pki\.json\); run 'ums-edge pki init --dir /);
});
