import { X509Certificate } from "node:crypto";
import { issueCertificate, parseCsr, CsrError } from "../pki";
import { MAX_ONBOARD_BODY_BYTES, OnboardRequest, OnboardResponse } from "../protocol/onboarding";
import type { StructuredLogger } from "../common/structured-log";
import type { DeviceRegistry } from "./device-registry";
import type { RevokedCertificates } from "./revoked-certificates";
import { EnrollmentKeys, keyRef } from "./enrollment-keys";
import { BodyTooLargeError, readBody, sendJson } from "../common/http-io";
import { refuse, RefusalSpec } from "./refusals";
import type { RouteHandler } from "./router";

/**
 * `POST /device-connector/v1/onboard`: a device without a certificate yet sends a one-time
 * enrollment key and a CSR; the UMS signs a device certificate with its device CA (natively, ~1 ms)
 * and answers with it and the chain the device presents from then on.
 */

export interface DeviceIssuer {
  /** Device CA certificate (the intermediate), PEM. */
  readonly certificatePem: string;
  /** Its private key, PEM; only ever handed to the signer. */
  readonly privateKeyPem: string;
  /** What the device presents after its own certificate: the intermediate. */
  readonly chainPem: string;
}

export interface OnboardingDeps {
  readonly keys: EnrollmentKeys;
  readonly registry: DeviceRegistry;
  readonly log: StructuredLogger;
  readonly issuer: DeviceIssuer;
  /** Returned to the device as where to open its management socket (known once the server listens). */
  readonly clusterAddress?: () => string;
  /** Lifetime of an issued device certificate. */
  readonly certificateValidityDays: number;
  /** Where a re-enrolled device's old certificate is revoked. */
  readonly revoked: RevokedCertificates;
  /** Closes a device's live session (its certificate was just revoked). */
  readonly disconnect: (deviceId: string, reason: string) => void;
}

const UNIT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAC = /^[0-9A-Fa-f]{12}$/;

function preview(v: unknown): string {
  const text = typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** Checks the request's fields; returns the first problem as a sentence, or the request. */
function validate(body: unknown): OnboardRequest | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "the body must be a JSON object with enrollmentKey, csr, unitId, mac and firmware";
  const b = body as Record<string, unknown>;
  for (const field of ["enrollmentKey", "csr", "unitId", "mac", "firmware"] as const) {
    if (typeof b[field] !== "string" || (b[field] as string).length === 0) return `'${field}' is missing or not a non-empty string`;
  }
  const r = b as unknown as OnboardRequest;
  if (!UNIT_ID.test(r.unitId)) return `'unitId' must be 1-64 letters, digits, '.', '_' or '-' (got '${preview(r.unitId)}')`;
  if (!MAC.test(r.mac.replace(/[:-]/g, ""))) return `'mac' must be 12 hex digits (got '${preview(r.mac)}')`;
  if (r.firmware.length > 64) return "'firmware' must be at most 64 characters";
  if (r.enrollmentKey.length > 256) return "'enrollmentKey' must be at most 256 characters";
  return r;
}

export function onboardingHandler(deps: OnboardingDeps): RouteHandler {
  return async ({ req, res }) => {
    const started = process.hrtime.bigint();
    const no = (spec: RefusalSpec) => refuse(deps.log, req, res, spec);
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_ONBOARD_BODY_BYTES);
    } catch (e) {
      if (e instanceof BodyTooLargeError) return no({ status: 413, error: "body-too-large", reason: `the onboarding request exceeds ${MAX_ONBOARD_BODY_BYTES} bytes` });
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      return no({ status: 400, error: "bad-onboard-request", reason: "the onboarding request body is not valid JSON" });
    }
    const request = validate(parsed);
    if (typeof request === "string") return no({ status: 400, error: "bad-onboard-request", reason: request });
    const unitId = request.unitId;

    const keyState = await deps.keys.check(request.enrollmentKey);
    if (keyState !== "usable") {
      return no({
        status: 403,
        error: keyState === "used" ? "enrollment-key-used" : "enrollment-key-unknown",
        reason:
          keyState === "used"
            ? `enrollment key ${keyRef(request.enrollmentKey)} was already used (a key works once); ask the administrator for a new one`
            : `enrollment key ${keyRef(request.enrollmentKey)} is not one this UMS issued`,
        unitId,
      });
    }
    let csr;
    try {
      csr = parseCsr(request.csr);
    } catch (e) {
      if (!(e instanceof CsrError)) throw e;
      return no({ status: 400, error: "csr-malformed", reason: e.message, unitId });
    }
    if (csr.commonName !== unitId) {
      return no({ status: 400, error: "csr-subject-mismatch", reason: `the CSR's CN '${preview(csr.commonName)}' is not the unitId '${unitId}'`, unitId });
    }
    if (csr.keyBits < 2048) {
      return no({ status: 400, error: "csr-weak-key", reason: `the CSR holds an RSA-${csr.keyBits} key; device certificates are issued for RSA-2048 or larger`, unitId });
    }
    // An enrollment key admits a new device, never an existing one: that would let anyone holding a key take a device over.
    const known = await deps.registry.byUnitId(unitId);
    if (known && !known.reenrollmentAllowed) {
      return no({
        status: 409,
        error: "device-exists",
        reason: `unit '${unitId}' is already enrolled (device ${known.id}); re-enrolling it needs the administrator's permission first (POST /umsapi/v3/thinclients/${known.id}/reenrollment)`,
        unitId,
      });
    }
    // Spend the key only now: a malformed CSR does not burn it. One conditional statement in the
    // store, so no other request (or server of a cluster) can spend it too.
    if ((await deps.keys.consume(request.enrollmentKey)) !== "usable") {
      return no({ status: 403, error: "enrollment-key-used", reason: `enrollment key ${keyRef(request.enrollmentKey)} was already used (a key works once)`, unitId });
    }
    const certificate = issueCertificate({
      subject: { commonName: unitId, organization: "IGEL Lab (ums-edge test PKI)", organizationalUnit: "devices" },
      publicKeyPem: csr.publicKeyPem,
      issuer: { certificatePem: deps.issuer.certificatePem, privateKeyPem: deps.issuer.privateKeyPem },
      profile: "client",
      validityDays: deps.certificateValidityDays,
    });
    const serial = new X509Certificate(certificate).serialNumber;
    const onboarded = await deps.registry.onboard({ unitId, mac: request.mac.replace(/[:-]/g, "").toUpperCase(), firmware: request.firmware, certificateSerial: serial });
    if (!onboarded.ok) {
      // The permission was used up by a concurrent onboarding between the check above and now.
      return no({ status: 409, error: "device-exists", reason: `unit '${unitId}' is already enrolled (device ${onboarded.device.id})`, unitId });
    }
    const device = onboarded.device;
    if (onboarded.replacedSerial !== undefined) {
      await deps.revoked.revoke(onboarded.replacedSerial, `unit '${unitId}' was re-enrolled with the administrator's permission`);
      deps.disconnect(device.id, "the device's certificate was revoked: it was re-enrolled");
      deps.log.info("device-reenrolled", { unitId, deviceId: device.id, revokedSerial: onboarded.replacedSerial, serial });
    }
    const answer: OnboardResponse = { unitId, deviceId: device.id, certificate, chain: deps.issuer.chainPem, clusterAddress: deps.clusterAddress?.() };
    deps.log.info("onboarded", {
      unitId,
      deviceId: device.id,
      serial,
      enrollmentKeyRef: keyRef(request.enrollmentKey),
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    });
    sendJson(res, 200, answer);
  };
}
