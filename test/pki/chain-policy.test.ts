import { X509Certificate } from "node:crypto";
import { generateRsaKeyPair, KeyPairPem } from "../../simulator/pki/keys";
import { issueCertificate, CertificateRequest } from "../../simulator/pki/certificates";
import { buildCrl } from "../../simulator/pki/crl";
import { ChainVerifier } from "../../simulator/pki/chain-verify";
import { AWS_VERIFY_POLICY } from "../../simulator/alb/client-cert";
import { UMS_CHAIN_POLICY } from "../../simulator/ums/chain-policy";
import { ICG_CHAIN_POLICY } from "../../simulator/icg/chain-policy";

/**
 * The chain rules one by one, on certificates built here: what AWS's policy (the emulated ALB)
 * refuses and with which reason, and where the UMS's and ICG's own policies differ.
 */

const DAY = 86_400_000;
let caKey: KeyPairPem;
let leafKey: KeyPairPem;

interface Made {
  readonly pem: string;
  readonly cert: X509Certificate;
  readonly keys: KeyPairPem;
}

function make(cn: string, issuer: Made | undefined, profile: CertificateRequest["profile"], extra: Partial<CertificateRequest> = {}, keys = profile === "ca" ? caKey : leafKey): Made {
  const pem = issueCertificate({
    subject: { commonName: cn, organization: "chain-policy test" },
    publicKeyPem: keys.publicKeyPem,
    issuer: issuer ? { certificatePem: issuer.pem, privateKeyPem: issuer.keys.privateKeyPem } : { privateKeyPem: keys.privateKeyPem },
    profile,
    ...extra,
  });
  return { pem, cert: new X509Certificate(pem), keys };
}

let root: Made;
let ca: Made;
beforeAll(async () => {
  [caKey, leafKey] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  root = make("Root", undefined, "ca");
  ca = make("Issuing CA", root, "ca");
});

const verdict = (v: ReturnType<ChainVerifier["verify"]>) => (v.ok ? `ok (${v.path.length})` : v.reason);

test("a valid chain 20 deep is too deep for AWS (judged before trust), and fine for the UMS", () => {
  const cas = [root];
  for (let i = 1; i < 20; i++) cas.push(make(`Deep CA ${i}`, cas[i - 1], "ca"));
  const leaf = make("deep-device", cas[cas.length - 1], "client");
  const presented = [leaf.cert, ...cas.slice(1).reverse().map((c) => c.cert)];
  const verifier = new ChainVerifier(root.pem);
  expect(verifier.verify(presented, AWS_VERIFY_POLICY)).toMatchObject({ ok: false, reason: "too-deep", detail: "the client presented 20 certificates; at most 4 are accepted" });
  expect(verdict(verifier.verify(presented, UMS_CHAIN_POLICY))).toBe("ok (21)");
});

test("depth counts the path from the leaf up to the first trust-store certificate, however many the client sent", () => {
  const cas = [root];
  for (let i = 1; i < 5; i++) cas.push(make(`Store CA ${i}`, cas[i - 1], "ca"));
  const leaf = make("leaf-only", cas[4], "client");
  // Every CA in the trust store: the path ends at the leaf's own issuer (2 certificates).
  expect(verdict(new ChainVerifier(cas.map((c) => c.pem).join("")).verify([leaf.cert], AWS_VERIFY_POLICY))).toBe("ok (2)");
  // Only CA 1 and the root trusted: 4 presented (allowed) but the path leaf, CA 4, CA 3, CA 2, CA 1 counts 5.
  const presented = [leaf.cert, cas[4].cert, cas[3].cert, cas[2].cert];
  expect(new ChainVerifier(cas[1].pem + root.pem).verify(presented, AWS_VERIFY_POLICY)).toMatchObject({ ok: false, reason: "too-deep", detail: expect.stringContaining("counts 5 certificates up to the trust store") });
  expect(verdict(new ChainVerifier(cas[1].pem + root.pem).verify(presented, UMS_CHAIN_POLICY))).toBe("ok (5)");
});

test("a trust store holding only the intermediate accepts its devices (the path ends there)", () => {
  const leaf = make("device", ca, "client");
  expect(verdict(new ChainVerifier(ca.pem).verify([leaf.cert], AWS_VERIFY_POLICY))).toBe("ok (2)");
  expect(verdict(new ChainVerifier(ca.pem).verify([leaf.cert, ca.cert, root.cert], AWS_VERIFY_POLICY))).toBe("ok (2)");
});

test("the trust store completes what the client does not send; unrelated extra certificates still count as presented", () => {
  const leaf = make("device", ca, "client");
  const verifier = new ChainVerifier(ca.pem + root.pem);
  expect(verdict(verifier.verify([leaf.cert], AWS_VERIFY_POLICY))).toBe("ok (2)");
  const strangers = [1, 2, 3].map((i) => make(`Stranger ${i}`, undefined, "ca").cert);
  expect(verifier.verify([leaf.cert, ...strangers], AWS_VERIFY_POLICY)).toMatchObject({ ok: true });
  expect(verifier.verify([leaf.cert, ca.cert, ...strangers], AWS_VERIFY_POLICY)).toMatchObject({ ok: false, reason: "too-deep" });
});

test.each([
  ["basicConstraints cA false", { ca: false }],
  ["cA true without keyCertSign", { keyUsage: ["digitalSignature", "cRLSign"] as const }],
])("an issuer that is not a CA (%s) is untrusted for AWS, the UMS and the ICG", (_name, overrides) => {
  const notCa = make("Not A CA", ca, "ca", { overrides });
  const leaf = make("device", notCa, "client");
  const verifier = new ChainVerifier(ca.pem + root.pem);
  for (const policy of [AWS_VERIFY_POLICY, UMS_CHAIN_POLICY, ICG_CHAIN_POLICY]) {
    expect(verifier.verify([leaf.cert, notCa.cert], policy)).toMatchObject({ ok: false, reason: "untrusted", detail: expect.stringMatching(/'Not A CA' .* is not a CA/) });
  }
});

test("purpose: serverAuth only and a keyUsage without digitalSignature are refused by AWS; no extendedKeyUsage at all is fine", () => {
  const verifier = new ChainVerifier(ca.pem);
  const server = make("server-only", ca, "server");
  const noDigital = make("no-signing", ca, "client", { overrides: { keyUsage: ["keyEncipherment"] } });
  const both = make("both", ca, "server-and-client");
  const noEku = make("no-eku", ca, "client", { overrides: { extendedKeyUsage: [] } });
  expect(verdict(verifier.verify([server.cert], AWS_VERIFY_POLICY))).toBe("purpose");
  expect(verdict(verifier.verify([noDigital.cert], AWS_VERIFY_POLICY))).toBe("purpose");
  expect(verdict(verifier.verify([both.cert], AWS_VERIFY_POLICY))).toBe("ok (2)");
  expect(verdict(verifier.verify([noEku.cert], AWS_VERIFY_POLICY))).toBe("ok (2)");
  expect(verdict(verifier.verify([server.cert], UMS_CHAIN_POLICY))).toBe("ok (2)");
});

test("a SHA-1 signature anywhere but on a self-signed root is refused by AWS (signature algorithm), not by the UMS", () => {
  const sha1Ca = make("SHA-1 CA", root, "ca", { signatureHash: "sha1" });
  const leaf = make("device", sha1Ca, "client");
  const verifier = new ChainVerifier(root.pem);
  expect(verifier.verify([leaf.cert, sha1Ca.cert], AWS_VERIFY_POLICY)).toMatchObject({ ok: false, reason: "signature-algorithm", detail: expect.stringContaining("sha1WithRSAEncryption") });
  expect(verdict(verifier.verify([leaf.cert, sha1Ca.cert], UMS_CHAIN_POLICY))).toBe("ok (3)");
  const sha1Root = make("SHA-1 Root", undefined, "ca", { signatureHash: "sha1" });
  expect(verdict(new ChainVerifier(sha1Root.pem).verify([make("device", sha1Root, "client").cert], AWS_VERIFY_POLICY))).toBe("ok (2)");
});

test("ignore expiry: an expired CA is accepted too, a CA not yet valid is not", () => {
  const expiredCa = make("Expired CA", root, "ca", { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
  const futureCa = make("Future CA", root, "ca", { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 400 * DAY) });
  const verifier = new ChainVerifier(root.pem);
  const ignoring = { ...AWS_VERIFY_POLICY, ignoreExpiry: true };
  expect(verdict(verifier.verify([make("d", expiredCa, "client").cert, expiredCa.cert], AWS_VERIFY_POLICY))).toBe("expired");
  expect(verdict(verifier.verify([make("d", expiredCa, "client").cert, expiredCa.cert], ignoring))).toBe("ok (3)");
  expect(verdict(verifier.verify([make("d", futureCa, "client").cert, futureCa.cert], ignoring))).toBe("not-yet-valid");
});

test("a stale CRL is a processing error for AWS and ignored by the UMS; a current one revokes", () => {
  const leaf = make("device", ca, "client");
  const crl = (nextUpdate: Date, serials: string[] = []) =>
    buildCrl({ issuerCertificatePem: ca.pem, issuerPrivateKeyPem: ca.keys.privateKeyPem, revoked: serials.map((s) => ({ serialHex: s, revokedAt: new Date() })), thisUpdate: new Date(nextUpdate.getTime() - 30 * DAY), nextUpdate });
  const stale = new ChainVerifier(ca.pem, crl(new Date(Date.now() - DAY)));
  expect(stale.verify([leaf.cert], AWS_VERIFY_POLICY)).toMatchObject({ ok: false, reason: "crl-processing", detail: expect.stringMatching(/the CRL of 'Issuing CA' .* is not current/) });
  expect(verdict(stale.verify([leaf.cert], UMS_CHAIN_POLICY))).toBe("ok (2)");
  expect(verdict(new ChainVerifier(ca.pem, crl(new Date(Date.now() + DAY), [leaf.cert.serialNumber])).verify([leaf.cert], AWS_VERIFY_POLICY))).toBe("revoked");
});

test("size: a certificate over 16 KiB, or a chain over 64 KiB, exceeds AWS's limits; malformed DER is invalid", () => {
  const big = make("big", ca, "client", { dnsNames: Array.from({ length: 700 }, (_, i) => `device-${i}.a-rather-long-name.example.test`) });
  expect(big.cert.raw.length).toBeGreaterThan(16 * 1024);
  const verifier = new ChainVerifier(ca.pem);
  expect(verifier.verifyDer([big.cert.raw], AWS_VERIFY_POLICY)).toMatchObject({ ok: false, reason: "too-large" });
  expect(verdict(verifier.verifyDer([big.cert.raw], UMS_CHAIN_POLICY))).toBe("ok (2)");
  const leaf = make("device", ca, "client");
  const filler = Array.from({ length: 5 }, () => Buffer.alloc(15 * 1024, 1));
  expect(verifier.verifyDer([leaf.cert.raw, ...filler], AWS_VERIFY_POLICY)).toMatchObject({ ok: false, reason: "too-large", detail: expect.stringContaining("chain is") });
  expect(verifier.verifyDer([leaf.cert.raw.subarray(0, 200)], AWS_VERIFY_POLICY)).toMatchObject({ ok: false, reason: "malformed" });
});
