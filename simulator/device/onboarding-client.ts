import { X509Certificate, createPublicKey } from "node:crypto";
import { createCsr, KeyPairPem } from "../pki";
import { ROUTES } from "../protocol/routes";
import type { OnboardRequest, OnboardResponse } from "../protocol/onboarding";
import { httpsRequest, HttpsRequestError, TlsTrust } from "./tls-trust";
import { DeviceRefusal, refusalFromError, refusalFromHttp } from "./refusal";

/**
 * A device's onboarding: a CSR for its own key (CN = unit id) and a one-time enrollment key, sent
 * over plain HTTPS (no client certificate yet) to the enrollment address — which, behind an ALB
 * in verify mode, is the 443 listener, not the 8443 one.
 */

export interface OnboardInput {
  /** Base URL of the enrollment address, e.g. `https://ums.example.com:443`. */
  readonly enrollmentUrl: string;
  readonly trust: TlsTrust;
  readonly enrollmentKey: string;
  readonly keyPair: KeyPairPem;
  readonly unitId: string;
  readonly mac: string;
  readonly firmware: string;
  readonly timeoutMs?: number;
}

export type OnboardOutcome =
  | { readonly ok: true; readonly response: OnboardResponse; readonly ms: number }
  | { readonly ok: false; readonly refusal: DeviceRefusal };

export async function onboard(input: OnboardInput): Promise<OnboardOutcome> {
  const started = performance.now();
  const csr = createCsr(input.keyPair.privateKeyPem, input.keyPair.publicKeyPem, { commonName: input.unitId, organization: "IGEL OS 12 (ums-edge fake device)" });
  const body: OnboardRequest = { enrollmentKey: input.enrollmentKey, csr, unitId: input.unitId, mac: input.mac, firmware: input.firmware };
  let answer;
  try {
    answer = await httpsRequest(new URL(ROUTES.onboard, input.enrollmentUrl).toString(), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      trust: input.trust,
      timeoutMs: input.timeoutMs,
    });
  } catch (e) {
    if (e instanceof HttpsRequestError) return { ok: false, refusal: refusalFromError("onboard", e.cause, e.facts) };
    throw e;
  }
  const text = answer.body.toString("utf8");
  if (answer.status !== 200) return { ok: false, refusal: refusalFromHttp("onboard", answer.status, text) };
  const protocolError = (reason: string): OnboardOutcome => ({ ok: false, refusal: { stage: "onboard", kind: "protocol", at: new Date().toISOString(), reason } });
  let response: OnboardResponse;
  try {
    response = JSON.parse(text) as OnboardResponse;
  } catch {
    return protocolError("the onboarding answer is not JSON");
  }
  if (typeof response?.certificate !== "string" || typeof response.chain !== "string") return protocolError("the onboarding answer has no certificate and chain");
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(response.certificate);
  } catch (e) {
    return protocolError(`the issued certificate does not parse: ${(e as Error).message}`);
  }
  const ours = spkiDer(input.keyPair.publicKeyPem);
  if (!cert.publicKey.export({ type: "spki", format: "der" }).equals(ours)) return protocolError("the issued certificate is not for this device's key");
  return { ok: true, response, ms: performance.now() - started };
}

/** A device key's SPKI DER, computed once per key (fleets draw their keys from a small pool). */
const spkiCache = new Map<string, Buffer>();
function spkiDer(publicKeyPem: string): Buffer {
  let der = spkiCache.get(publicKeyPem);
  if (!der) {
    der = createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
    if (spkiCache.size >= 4096) spkiCache.clear();
    spkiCache.set(publicKeyPem, der);
  }
  return der;
}
