import * as fs from "node:fs";
import fc from "fast-check";
import { X509Certificate } from "node:crypto";
import { LabPki } from "../../simulator/pki";
import { certificatesFromPem } from "../../core/pem";
import { decodeForwardedCert, encodeUrlAws, ForwardedCertError, MAX_FORWARDED_CERT_BYTES } from "../../simulator/protocol/forwarded-cert";
import { testLabPki } from "../helpers/lab-pki";

/**
 * Properties of the URL_AWS decoder the UMS uses on X-Amzn-Mtls-Clientcert(-Leaf): whatever an ALB
 * or nginx encodes comes back as the same certificates, and no input makes it throw anything but
 * ForwardedCertError (which the UMS turns into a 4xx with the reason).
 */

let pool: X509Certificate[];

beforeAll(async () => {
  const pki: LabPki = await testLabPki();
  const seen = new Map<string, X509Certificate>();
  for (const file of [pki.devices.good.chain, pki.devices["too-deep"].chain, pki.devices["other-ca"].chain, pki.devices["rsa-1024"].chain, pki.devices["x509-v1"].chain]) {
    for (const c of certificatesFromPem(fs.readFileSync(file, "utf8"))) seen.set(c.fingerprint256, c);
  }
  pool = [...seen.values()];
});

/** A chain of 1-5 lab certificates, in any order (the decoder keeps order; it does not judge). */
const chainArb = () => fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 5 }).map((idx) => idx.map((i) => pool[i % pool.length]));
const pemOf = (chain: X509Certificate[]) => chain.map((c) => c.toString()).join("");
const fingerprints = (chain: X509Certificate[]) => chain.map((c) => c.fingerprint256);

/** nginx's $ssl_client_escaped_cert: everything but unreserved characters is escaped, `=` and `+` and `/` too. */
const nginxEscape = (pem: string) => encodeURIComponent(pem).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

test("encodeUrlAws → decode gives back the same certificates, leaf first", () => {
  fc.assert(
    fc.property(chainArb(), (chain) => {
      expect(fingerprints(decodeForwardedCert(encodeUrlAws(pemOf(chain))))).toEqual(fingerprints(chain));
    }),
    { numRuns: 200 },
  );
});

test("AWS keeps '+', '=' and '/' raw; only whitespace and similar are escaped", () => {
  fc.assert(
    fc.property(chainArb(), (chain) => {
      const encoded = encodeUrlAws(pemOf(chain));
      expect(encoded).not.toMatch(/%2B|%3D|%2F|[\n ]/);
      expect(encoded).toMatch(/^-----BEGIN%20CERTIFICATE-----%0A/);
    }),
    { numRuns: 50 },
  );
});

test("'=' may come raw or as %3D (and in either case of hex), in any mix", () => {
  fc.assert(
    fc.property(chainArb(), fc.infiniteStream(fc.constantFrom("=", "%3D", "%3d")), (chain, choices) => {
      const encoded = encodeUrlAws(pemOf(chain)).replace(/=/g, () => choices.next().value as string);
      expect(fingerprints(decodeForwardedCert(encoded))).toEqual(fingerprints(chain));
    }),
    { numRuns: 100 },
  );
});

test("nginx-style escaping (also '+', '/', '=') decodes to the same certificates", () => {
  fc.assert(
    fc.property(chainArb(), (chain) => {
      const escaped = nginxEscape(pemOf(chain));
      expect(escaped).toMatch(/%2B|%2F|%3D/);
      expect(fingerprints(decodeForwardedCert(escaped))).toEqual(fingerprints(chain));
    }),
    { numRuns: 100 },
  );
});

/** Runs the decoder; anything but a ForwardedCertError fails the property. */
function decodesOrRefuses(value: string): void {
  try {
    const chain = decodeForwardedCert(value);
    expect(chain.length).toBeGreaterThan(0);
  } catch (e) {
    if (!(e instanceof ForwardedCertError)) throw new Error(`threw ${(e as Error).constructor.name}: ${(e as Error).message}`);
    expect(["empty", "too-large", "bad-encoding", "not-pem", "bad-certificate"]).toContain(e.reason);
  }
}

test("garbage never throws anything but ForwardedCertError", () => {
  const percentNoise = fc.array(fc.oneof(fc.string(), fc.constantFrom("%", "%Z", "%E2%82", "%0A", "%20", "%3D", "%00", "%FF")), { maxLength: 30 }).map((p) => p.join(""));
  const fakePem = fc
    .tuple(fc.base64String({ maxLength: 400 }), fc.constantFrom("%0A", "\n", " ", ""))
    .map(([body, nl]) => `-----BEGIN CERTIFICATE-----${nl}${body}${nl}-----END CERTIFICATE-----`);
  const mangled = chainArb().chain((chain) =>
    fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 8 })).map(([at, len, insert]) => {
      const text = encodeUrlAws(pemOf(chain));
      const i = at % text.length;
      return text.slice(0, i) + insert + text.slice(i + (len % 20));
    }),
  );
  fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), percentNoise, fakePem, mangled), decodesOrRefuses), { numRuns: 1000 });
});

test("an oversized value is refused as too-large before any decoding", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4096 }), (extra) => {
      const value = "A".repeat(MAX_FORWARDED_CERT_BYTES + extra);
      expect(() => decodeForwardedCert(value)).toThrow(expect.objectContaining({ reason: "too-large" }));
    }),
    { numRuns: 20 },
  );
});
