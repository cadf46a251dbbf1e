import * as fs from "node:fs";
import { X509Certificate } from "node:crypto";
import { ClientCertPolicy, REFUSAL_CODES, refusalAlert } from "../../simulator/alb/client-cert";
import { ChainVerifier } from "../../simulator/pki/chain-verify";
import { buildCrl } from "../../simulator/pki/crl";
import { alertName } from "../../simulator/alb/tls-wire/alerts";
import type { ListenerModel } from "../../simulator/terraform/stack-model";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";

/**
 * The verify listener's verdicts from the DER a client sends, for the causes a TLS client cannot be
 * made to produce (a certificate that does not parse) or that need a trust store of their own (a
 * stale CRL); every code's alert.
 */

let pki: LabPki;
beforeAll(async () => {
  pki = await testLabPki();
});

const listener = (mode: "verify" | "passthrough"): ListenerModel =>
  ({
    mutualAuthentication: { mode, ignoreClientCertificateExpiry: false },
    headerNames: { clientcert: "X-Amzn-Mtls-Clientcert", leaf: "X-Amzn-Mtls-Clientcert-Leaf", serialNumber: "X-Amzn-Mtls-Clientcert-Serial-Number", issuer: "X-Amzn-Mtls-Clientcert-Issuer", subject: "X-Amzn-Mtls-Clientcert-Subject", validity: "X-Amzn-Mtls-Clientcert-Validity" },
  }) as unknown as ListenerModel;

const der = (file: string) => new X509Certificate(fs.readFileSync(file)).raw;

test("a certificate that does not parse: Failed:ClientCertInvalid, no leaf fields in the log", () => {
  const policy = new ClientCertPolicy(listener("verify"), new ChainVerifier(fs.readFileSync(pki.clientCaChain, "utf8")));
  const outcome = policy.evaluate([der(pki.devices.good.cert).subarray(0, 300)]);
  expect(outcome).toMatchObject({ accepted: false, verifyStatus: "Failed:ClientCertInvalid", refusal: "malformed", logSubject: "-", logSerial: "-" });
});

test("a stale CRL in the trust store: Failed:ClientCertCrlProcessingError for the devices its CA issued", () => {
  const now = Date.now();
  const stale = buildCrl({ issuerCertificatePem: fs.readFileSync(pki.deviceCa.cert, "utf8"), issuerPrivateKeyPem: fs.readFileSync(pki.deviceCa.key, "utf8"), revoked: [], thisUpdate: new Date(now - 40 * 86_400_000), nextUpdate: new Date(now - 86_400_000) });
  const policy = new ClientCertPolicy(listener("verify"), new ChainVerifier(fs.readFileSync(pki.clientCaChain, "utf8"), stale));
  expect(policy.evaluate([der(pki.devices.good.cert), der(pki.deviceCa.cert)])).toMatchObject({ accepted: false, verifyStatus: "Failed:ClientCertCrlProcessingError", logSubject: expect.stringMatching(/^CN=lab-device-good,/) });
});

test("passthrough forwards what was sent, even what does not parse", () => {
  const policy = new ClientCertPolicy(listener("passthrough"));
  const outcome = policy.evaluate([der(pki.devices.good.cert), Buffer.from("not a certificate")]);
  expect(outcome.accepted).toBe(true);
  const lf = (text: string) => text.replace(/\r\n/g, "\n");
  expect(decodeURIComponent(outcome.headers[1])).toBe(lf(`${fs.readFileSync(pki.devices.good.cert, "utf8")}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`));
});

test("every refusal has a code of AWS's list and a fatal alert; a missing certificate's alert depends on the version", () => {
  const awsCodes = ["ClientCertMaxChainDepthExceeded", "ClientCertMaxSizeExceeded", "ClientCertCrlHit", "ClientCertCrlProcessingError", "ClientCertUntrusted", "ClientCertNotYetValid", "ClientCertExpired", "ClientCertTypeUnsupported", "ClientCertInvalid", "ClientCertPurposeInvalid", "ClientCertRejected", "UnmappedConnectionError", "ClientCertIncompatible"];
  for (const [reason, code] of Object.entries(REFUSAL_CODES)) {
    expect(awsCodes).toContain(code);
    expect(alertName(refusalAlert(reason as keyof typeof REFUSAL_CODES, true))).not.toMatch(/^alert \d/);
  }
  expect(alertName(refusalAlert("no-certificate", true))).toBe("certificate_required");
  expect(alertName(refusalAlert("no-certificate", false))).toBe("handshake_failure");
  // Produced somewhere: all of AWS's codes but ClientCertRejected (no custom validation on an ALB listener).
  expect(awsCodes.filter((c) => !Object.values(REFUSAL_CODES).includes(c))).toEqual(["ClientCertRejected"]);
});

test("an accepted chain's outcome is kept for a minute by the chain's digest: the same chain gets it, another chain its own, and after the minute it is judged again", () => {
  const verifier = new ChainVerifier(fs.readFileSync(pki.clientCaChain, "utf8"));
  const verify = jest.spyOn(verifier, "verifyDer");
  const policy = new ClientCertPolicy(listener("verify"), verifier);
  const good = [der(pki.devices.good.cert), der(pki.deviceCa.cert)];
  const t0 = new Date();
  const first = policy.evaluate(good, t0);
  expect(first.accepted).toBe(true);
  expect(policy.evaluate(good.map((d) => Buffer.from(d)), new Date(t0.getTime() + 30_000))).toBe(first);
  const calls = verify.mock.calls.length;
  // The leaf alone is another chain (a different digest): judged on its own, not served the cached outcome.
  const leafOnly = policy.evaluate([good[0]], t0);
  expect(leafOnly).not.toBe(first);
  expect(verify.mock.calls.length).toBeGreaterThan(calls);
  const later = policy.evaluate(good, new Date(t0.getTime() + 61_000));
  expect(later).not.toBe(first);
  expect(later).toMatchObject({ accepted: true, verifyStatus: first.verifyStatus, headers: first.headers });
});
