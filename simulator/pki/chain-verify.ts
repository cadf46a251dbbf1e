import { X509Certificate } from "node:crypto";
import { certificatesFromPem } from "../../core/pem";
import { parseCrls, normaliseSerial } from "../../core/crl-reader";
import { isAwsMtlsKey, x509Version } from "../../core/x509";
import { commonName } from "./dn";

/**
 * Client-certificate chain verification shared by every component that checks device
 * certificates: the ALB emulator in verify mode (with AWS's limits), the mock UMS and the ICG
 * (chain, validity and revocation only). One implementation, so that the components disagree only
 * where their configured policies do.
 */

export type ChainRefusal =
  | "no-certificate"
  | "malformed"
  | "unsupported-key"
  | "not-v3"
  | "untrusted"
  | "too-deep"
  | "not-yet-valid"
  | "expired"
  | "revoked";

export type ChainVerdict =
  | { readonly ok: true; readonly path: readonly X509Certificate[] }
  | { readonly ok: false; readonly reason: ChainRefusal; readonly detail: string };

export interface VerifyPolicy {
  /** @default new Date() */
  readonly now?: Date;
  /** Longest accepted path, leaf to root inclusive. @default Infinity (AWS: 4) */
  readonly maxDepth?: number;
  /** Accept an expired certificate (AWS `ignore_client_certificate_expiry`). @default false */
  readonly ignoreExpiry?: boolean;
  /** 'aws': RSA 2048-8192 or ECDSA P-256/P-384/P-521 only. 'any': whatever verifies. @default 'any' */
  readonly keyPolicy?: "aws" | "any";
  /** Refuse certificates older than X.509 v3 (AWS does). @default false */
  readonly requireV3?: boolean;
}

function parseDate(text: string): Date {
  return new Date(text);
}

/** Issuer equals subject and the certificate verifies with its own key (checkIssued would also demand keyCertSign, which a self-signed client certificate lacks). */
function isSelfSigned(cert: X509Certificate): boolean {
  return cert.issuer === cert.subject && cert.verify(cert.publicKey);
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/** Short, log-friendly name of a certificate. */
export function describe(cert: X509Certificate): string {
  return `'${commonName(cert) ?? cert.subject.replace(/\n/g, ",")}' (serial ${cert.serialNumber})`;
}

export class TrustStoreError extends Error {}

/** A set of trusted CA certificates plus the revocations their CRLs list. */
export class ChainVerifier {
  private readonly anchors: readonly X509Certificate[];
  private readonly anchorFingerprints: ReadonlySet<string>;
  /** Revoked serials per issuing CA, keyed by the CA's SHA-256 fingerprint. */
  private readonly revokedByIssuer = new Map<string, Set<string>>();

  constructor(caBundlePem: string, crlPem?: string) {
    let anchors: X509Certificate[];
    try {
      anchors = certificatesFromPem(caBundlePem);
    } catch (e) {
      throw new TrustStoreError(`the CA bundle has a certificate that does not parse: ${(e as Error).message}`);
    }
    if (anchors.length === 0) throw new TrustStoreError("the CA bundle holds no '-----BEGIN CERTIFICATE-----' block");
    this.anchors = anchors;
    this.anchorFingerprints = new Set(anchors.map((a) => a.fingerprint256));
    if (crlPem) {
      for (const crl of parseCrls(crlPem)) {
        const issuer = anchors.find((a) => crl.isSignedBy(a));
        if (!issuer) throw new TrustStoreError("a CRL is not signed by any CA of the CA bundle");
        const set = this.revokedByIssuer.get(issuer.fingerprint256) ?? new Set<string>();
        crl.revokedSerials.forEach((s) => set.add(s));
        this.revokedByIssuer.set(issuer.fingerprint256, set);
      }
    }
  }

  get certificates(): readonly X509Certificate[] {
    return this.anchors;
  }

  /** Verifies a presented chain, leaf first. */
  verify(presented: readonly X509Certificate[], policy: VerifyPolicy = {}): ChainVerdict {
    if (presented.length === 0) return { ok: false, reason: "no-certificate", detail: "no client certificate was presented" };
    const leaf = presented[0];
    const now = policy.now ?? new Date();

    const path = this.buildPath(presented);
    if (policy.keyPolicy === "aws") {
      const bad = path.find((c) => !isAwsMtlsKey(c.publicKey));
      if (bad) {
        const d = bad.publicKey.asymmetricKeyDetails;
        return {
          ok: false,
          reason: "unsupported-key",
          detail: `${describe(bad)} has a ${bad.publicKey.asymmetricKeyType}${d?.modulusLength ? `-${d.modulusLength}` : ""} key; accepted: RSA 2048-8192, ECDSA P-256/P-384/P-521`,
        };
      }
    }
    if (policy.requireV3) {
      const old = path.find((c) => x509Version(c) !== 3);
      if (old) return { ok: false, reason: "not-v3", detail: `${describe(old)} is X.509 v${x509Version(old)}; only v3 is accepted` };
    }
    const anchored = path.slice(1).some((c) => this.anchorFingerprints.has(c.fingerprint256));
    if (!anchored) {
      const top = path[path.length - 1];
      return {
        ok: false,
        reason: "untrusted",
        detail: isSelfSigned(top) && path.length === 1
          ? `${describe(leaf)} is self-signed and not issued by a trusted CA`
          : `no trusted CA issued ${describe(top)} (issuer '${top.issuer.replace(/\n/g, ",")}')`,
      };
    }
    const maxDepth = policy.maxDepth ?? Infinity;
    if (path.length > maxDepth) {
      return { ok: false, reason: "too-deep", detail: `chain of ${path.length} certificates exceeds the maximum depth of ${maxDepth}` };
    }
    for (const cert of path) {
      const from = parseDate(cert.validFrom);
      const to = parseDate(cert.validTo);
      if (now < from) return { ok: false, reason: "not-yet-valid", detail: `${describe(cert)} is not valid before ${from.toISOString()}` };
      if (now > to && !policy.ignoreExpiry) return { ok: false, reason: "expired", detail: `${describe(cert)} expired at ${to.toISOString()}` };
    }
    for (let i = 0; i + 1 < path.length; i++) {
      const revoked = this.revokedByIssuer.get(path[i + 1].fingerprint256);
      if (revoked?.has(normaliseSerial(path[i].serialNumber))) {
        return { ok: false, reason: "revoked", detail: `${describe(path[i])} is listed in the CRL of ${describe(path[i + 1])}` };
      }
    }
    return { ok: true, path };
  }

  /** Leaf upwards: each step the trusted CA or presented certificate that issued the last one. */
  private buildPath(presented: readonly X509Certificate[]): X509Certificate[] {
    const candidates = [...this.anchors, ...presented.slice(1)];
    const path = [presented[0]];
    for (let current = presented[0]; path.length <= 16 && !isSelfSigned(current); ) {
      const next = candidates.find((c) => c !== current && !path.includes(c) && issuedBy(current, c));
      if (!next) break;
      path.push(next);
      current = next;
    }
    return path;
  }
}
