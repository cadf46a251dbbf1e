import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { createCsr, parseCsr, CsrError } from "../../simulator/pki/csr";
import { KeyPool, generateRsaKeyPair } from "../../simulator/pki/keys";
import { issueCertificate } from "../../simulator/pki/certificates";
import { buildCrl } from "../../simulator/pki/crl";
import { parseCrls, CrlError } from "../../core/crl-reader";
import { ChainVerifier, TrustStoreError } from "../../simulator/pki/chain-verify";
import { rfc2253 } from "../../simulator/pki/dn";
import { tempDir } from "../helpers/config";

test("a CSR round-trips: CN, key and a verifying self-signature", async () => {
  const keys = await generateRsaKeyPair();
  const parsed = parseCsr(createCsr(keys.privateKeyPem, keys.publicKeyPem, { commonName: "00E0C5000001", organization: "IGEL" }));
  expect(parsed.commonName).toBe("00E0C5000001");
  expect(parsed.keyBits).toBe(2048);
  expect(parsed.publicKeyPem.replace(/\s/g, "")).toBe(keys.publicKeyPem.replace(/\s/g, ""));
});

test.each([
  ["not PEM", () => "hello", "csr must be a PEM 'CERTIFICATE REQUEST' block"],
  ["garbage inside the PEM armour", () => "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", /^csr does not parse: /],
])("parseCsr refuses %s", (_n, make, message) => {
  expect(() => parseCsr(make())).toThrow(CsrError);
  expect(() => parseCsr(make())).toThrow(message);
});

test("parseCsr refuses a CSR whose signature does not match its key", async () => {
  const a = await generateRsaKeyPair();
  const b = await generateRsaKeyPair();
  // Signed with a's key but claiming b's public key.
  const forged = createCsr(a.privateKeyPem, b.publicKeyPem, { commonName: "x" });
  expect(() => parseCsr(forged)).toThrow("csr signature does not verify against its own public key");
});

test("KeyPool generates keys once (0600), reuses them round-robin and across instances", async () => {
  const dir = tempDir();
  const pool = new KeyPool(dir);
  expect(await pool.ensure(3)).toBe(3);
  expect(await pool.ensure(3)).toBe(0);
  const files = fs.readdirSync(dir);
  expect(files).toHaveLength(3);
  for (const f of files) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
  expect(pool.key(4, 3).privateKeyPem).toBe(pool.key(1, 3).privateKeyPem);
  expect(new KeyPool(dir).key(2, 3).privateKeyPem).toBe(pool.key(2, 3).privateKeyPem);
  expect(() => new KeyPool(dir).key(7, 10)).toThrow(/has no key 7: call ensure\(10\) first/);
});

test("CRL: build, parse and check signatures; a bundle with several CRLs; not-a-CRL refused", async () => {
  const caKeys = await generateRsaKeyPair();
  const caPem = issueCertificate({ subject: { commonName: "CA" }, publicKeyPem: caKeys.publicKeyPem, issuer: { privateKeyPem: caKeys.privateKeyPem }, profile: "ca" });
  const crl1 = buildCrl({ issuerCertificatePem: caPem, issuerPrivateKeyPem: caKeys.privateKeyPem, revoked: [{ serialHex: "00ab12", revokedAt: new Date() }] });
  const crl2 = buildCrl({ issuerCertificatePem: caPem, issuerPrivateKeyPem: caKeys.privateKeyPem, revoked: [] });
  const [a, b] = parseCrls(crl1 + crl2);
  expect([...a.revokedSerials]).toEqual(["AB12"]);
  expect(b.revokedSerials.size).toBe(0);
  expect(a.isSignedBy(new X509Certificate(caPem))).toBe(true);
  expect(() => parseCrls("nothing")).toThrow(CrlError);
  expect(() => new ChainVerifier(caPem, crl1)).not.toThrow();
  expect(() => new ChainVerifier("no certs here")).toThrow(TrustStoreError);
});

test("rfc2253 puts the most specific RDN first", () => {
  expect(rfc2253("C=DE\nO=IGEL\nCN=device 1")).toBe("CN=device 1,O=IGEL,C=DE");
});
