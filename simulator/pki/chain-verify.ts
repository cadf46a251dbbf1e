import { X509Certificate } from "node:crypto";
import { certificatesFromPem } from "../../core/pem";
import { parseCrls, normaliseSerial, ParsedCrl } from "../../core/crl-reader";
import { commonName } from "./dn";
import { certificateFields, EKU } from "../../core/x509-fields";
import { isAwsMtlsKey } from "../../core/x509";

/**
 * Client-certificate chain verification shared by every component that checks device
 * certificates: the ALB emulator in verify mode, the mock UMS and the ICG. One implementation, each
 * component with its own policy (which checks apply), so that they disagree only where their
 * configured policies do. The checks run in a fixed order and the first failure is the verdict.
 */

export type ChainRefusal =
  | "no-certificate"
  | "too-large"
  | "malformed"
  | "too-deep"
  | "signature-algorithm"
  | "unsupported-key"
  | "not-v3"
  | "untrusted"
  | "purpose"
  | "not-yet-valid"
  | "expired"
  | "crl-processing"
  | "revoked";

export type ChainVerdict =
  | { readonly ok: true; readonly path: readonly X509Certificate[] }
  | { readonly ok: false; readonly reason: ChainRefusal; readonly detail: string };

export interface VerifyPolicy {
  /** @default new Date() */
  readonly now?: Date;
  /**
   * Most certificates allowed, counted twice: those the client presented, and those of the path
   * from the leaf up to and including the trust-store certificate it reaches (or as far as it
   * goes). Judged before trust. @default Infinity
   */
  readonly maxDepth?: number;
  /** Accept expired certificates anywhere on the path (AWS `ignore_client_certificate_expiry`). @default false */
  readonly ignoreExpiry?: boolean;
  /** 'aws': RSA 2048-8192 or ECDSA P-256/P-384/P-521 only. 'any': whatever verifies. @default 'any' */
  readonly keyPolicy?: "aws" | "any";
  /** Refuse certificates older than X.509 v3. @default false */
  readonly requireV3?: boolean;
  /** 'aws': SHA-256/384/512 with RSA, ECDSA or RSASSA-PSS (MGF1) only, on every certificate not self-signed. @default 'any' */
  readonly signatureAlgorithms?: "aws" | "any";
  /** Every issuer on the path must be a CA: basicConstraints cA, and keyCertSign when keyUsage is present. @default true */
  readonly issuersMustBeCa?: boolean;
  /** The leaf must be usable for TLS client authentication: clientAuth (or any) in its extendedKeyUsage, digitalSignature in its keyUsage. @default false */
  readonly clientAuthPurpose?: boolean;
  /** Size limits of the presented certificates (DER bytes). @default none */
  readonly maxBytes?: { readonly certificate: number; readonly chain: number };
  /** A CRL past its nextUpdate (or before its thisUpdate) is a processing error for the certificates it covers. @default false */
  readonly staleCrlIsError?: boolean;
}

const AWS_HASHES = new Set(["sha256", "sha384", "sha512"]);

function signatureAcceptedByAws(cert: X509Certificate): boolean {
  const s = certificateFields(cert).signature;
  if (s.kind === "rsa-pss") return AWS_HASHES.has(s.hash ?? "") && AWS_HASHES.has(s.mgfHash ?? "");
  return (s.kind === "rsa-pkcs1" || s.kind === "ecdsa") && AWS_HASHES.has(s.hash ?? "");
}

/** Issuer name equals subject name and the certificate verifies with its own key. */
function isSelfSigned(cert: X509Certificate): boolean {
  return cert.issuer === cert.subject && cert.verify(cert.publicKey);
}

/**
 * Names and signature only: whether the issuer may issue (CA flags) is a separate check, so a
 * non-CA issuer is found and named instead of looking like a missing one (Node's checkIssued
 * would also demand keyCertSign).
 */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.issuer === issuer.subject && cert.verify(issuer.publicKey);
}

function mayIssue(cert: X509Certificate): boolean {
  const f = certificateFields(cert);
  // A v1 self-signed root carries no extensions; OpenSSL and PKIX treat it as a CA.
  if (f.version === 1) return isSelfSigned(cert);
  return f.basicConstraints?.ca === true && (f.keyUsage === undefined || f.keyUsage.has("keyCertSign"));
}

function clientAuthAllowed(cert: X509Certificate): boolean {
  const f = certificateFields(cert);
  const eku = f.extendedKeyUsage;
  const ku = f.keyUsage;
  return (eku === undefined || eku.includes(EKU.clientAuth) || eku.includes(EKU.any)) && (ku === undefined || ku.has("digitalSignature") || ku.has("keyAgreement"));
}

/** Short, log-friendly name of a certificate. */
export function describe(cert: X509Certificate): string {
  return `'${commonName(cert) ?? cert.subject.replace(/\n/g, ",")}' (serial ${cert.serialNumber})`;
}

function refuse(reason: ChainRefusal, detail: string): ChainVerdict {
  return { ok: false, reason, detail };
}

export class TrustStoreError extends Error {}

/** A set of trusted CA certificates plus the revocations their CRLs list. */
export class ChainVerifier {
  private readonly anchors: readonly X509Certificate[];
  /** CRLs per issuing CA, keyed by the CA's SHA-256 fingerprint. */
  private readonly crlsByIssuer = new Map<string, ParsedCrl[]>();

  constructor(caBundlePem: string, crlPem?: string) {
    let anchors: X509Certificate[];
    try {
      anchors = certificatesFromPem(caBundlePem);
    } catch (e) {
      throw new TrustStoreError(`the CA bundle has a certificate that does not parse: ${(e as Error).message}`);
    }
    if (anchors.length === 0) throw new TrustStoreError("the CA bundle holds no '-----BEGIN CERTIFICATE-----' block");
    this.anchors = anchors;
    if (crlPem) {
      for (const crl of parseCrls(crlPem)) {
        const issuer = anchors.find((a) => crl.isSignedBy(a));
        if (!issuer) throw new TrustStoreError("a CRL is not signed by any CA of the CA bundle");
        this.crlsByIssuer.set(issuer.fingerprint256, [...(this.crlsByIssuer.get(issuer.fingerprint256) ?? []), crl]);
      }
    }
  }

  get certificates(): readonly X509Certificate[] {
    return this.anchors;
  }

  /** Verifies a presented chain (DER, leaf first, as sent): parses it, then `verify`. */
  verifyDer(presented: readonly Buffer[], policy: VerifyPolicy = {}): ChainVerdict & { readonly certificates: readonly X509Certificate[] } {
    const certificates: X509Certificate[] = [];
    if (policy.maxBytes) {
      const total = presented.reduce((n, d) => n + d.length, 0);
      const big = presented.findIndex((d) => d.length > policy.maxBytes!.certificate);
      if (big >= 0) return { ...refuse("too-large", `presented certificate ${big + 1} is ${presented[big].length} bytes; at most ${policy.maxBytes.certificate} are accepted`), certificates };
      if (total > policy.maxBytes.chain) return { ...refuse("too-large", `the presented chain is ${total} bytes; at most ${policy.maxBytes.chain} are accepted`), certificates };
    }
    for (const [i, der] of presented.entries()) {
      try {
        const cert = new X509Certificate(der);
        certificateFields(cert); // the fields the checks read must parse too
        certificates.push(cert);
      } catch (e) {
        return { ...refuse("malformed", `presented certificate ${i + 1} does not parse: ${(e as Error).message}`), certificates };
      }
    }
    return { ...this.verify(certificates, policy), certificates };
  }

  /** Verifies a presented chain, leaf first. */
  verify(presented: readonly X509Certificate[], policy: VerifyPolicy = {}): ChainVerdict {
    if (presented.length === 0) return refuse("no-certificate", "no client certificate was presented");
    const leaf = presented[0];
    const now = policy.now ?? new Date();
    const maxDepth = policy.maxDepth ?? Infinity;
    if (presented.length > maxDepth) return refuse("too-deep", `the client presented ${presented.length} certificates; at most ${maxDepth} are accepted`);
    const policyFailure = (certs: readonly X509Certificate[]) => this.certificateChecks(certs, policy);
    const onWire = policyFailure(presented);
    if (onWire) return onWire;

    const { path, anchored } = this.buildPath(presented, maxDepth);
    if (path.length > maxDepth) return refuse("too-deep", `the chain from ${describe(leaf)} counts ${anchored ? path.length : `more than ${maxDepth}`} certificates up to ${anchored ? "the trust store" : "where it stops"}; at most ${maxDepth} are accepted`);
    const fromStore = policyFailure(path.filter((c) => !presented.includes(c)));
    if (fromStore) return fromStore;

    if (!anchored) {
      const top = path[path.length - 1];
      return refuse(
        "untrusted",
        isSelfSigned(top) && path.length === 1 ? `${describe(leaf)} is self-signed and not issued by a trusted CA` : `no trusted CA issued ${describe(top)} (issuer '${top.issuer.replace(/\n/g, ",")}')`,
      );
    }
    if (policy.issuersMustBeCa !== false) {
      const notCa = path.slice(1).find((c) => !mayIssue(c));
      if (notCa) return refuse("untrusted", `${describe(notCa)} issued a certificate of the chain but is not a CA (basicConstraints cA and keyUsage keyCertSign)`);
    }
    if (policy.clientAuthPurpose && !clientAuthAllowed(leaf)) {
      const f = certificateFields(leaf);
      return refuse("purpose", `${describe(leaf)} is not for TLS client authentication (extendedKeyUsage ${f.extendedKeyUsage?.join(",") ?? "-"}, keyUsage ${f.keyUsage ? [...f.keyUsage].join(",") : "-"})`);
    }
    for (const cert of path) {
      const from = new Date(cert.validFrom);
      const to = new Date(cert.validTo);
      if (now < from) return refuse("not-yet-valid", `${describe(cert)} is not valid before ${from.toISOString()}`);
      if (now > to && !policy.ignoreExpiry) return refuse("expired", `${describe(cert)} expired at ${to.toISOString()}`);
    }
    for (let i = 0; i + 1 < path.length; i++) {
      for (const crl of this.crlsByIssuer.get(path[i + 1].fingerprint256) ?? []) {
        if (policy.staleCrlIsError && (now < crl.thisUpdate || (crl.nextUpdate !== undefined && now > crl.nextUpdate))) {
          return refuse("crl-processing", `the CRL of ${describe(path[i + 1])} is not current (thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate?.toISOString() ?? "-"})`);
        }
        if (crl.revokedSerials.has(normaliseSerial(path[i].serialNumber))) return refuse("revoked", `${describe(path[i])} is listed in the CRL of ${describe(path[i + 1])}`);
      }
    }
    return { ok: true, path };
  }

  /** The per-certificate checks of a policy (signature algorithm, key, version), in that order. */
  private certificateChecks(certs: readonly X509Certificate[], policy: VerifyPolicy): ChainVerdict | undefined {
    if (policy.signatureAlgorithms === "aws") {
      const bad = certs.find((c) => !isSelfSigned(c) && !signatureAcceptedByAws(c));
      if (bad) return refuse("signature-algorithm", `${describe(bad)} is signed with ${certificateFields(bad).signature.name}; accepted: SHA-256/384/512 with RSA, ECDSA or RSASSA-PSS (MGF1)`);
    }
    if (policy.keyPolicy === "aws") {
      const bad = certs.find((c) => !isAwsMtlsKey(c.publicKey));
      if (bad) {
        const d = bad.publicKey.asymmetricKeyDetails;
        return refuse("unsupported-key", `${describe(bad)} has a ${bad.publicKey.asymmetricKeyType}${d?.modulusLength ? `-${d.modulusLength}` : d?.namedCurve ? ` ${d.namedCurve}` : ""} key; accepted: RSA 2048-8192, ECDSA P-256/P-384/P-521`);
      }
    }
    if (policy.requireV3) {
      const old = certs.find((c) => certificateFields(c).version !== 3);
      if (old) return refuse("not-v3", `${describe(old)} is X.509 v${certificateFields(old).version}; only v3 is accepted`);
    }
    return undefined;
  }

  /**
   * Leaf upwards, each step to the certificate that issued the last one: a trust-store certificate
   * ends the path (it need not be a root), otherwise a presented one continues it. Stops after
   * `maxDepth` + 1 certificates: a longer chain is too deep whatever lies beyond.
   */
  private buildPath(presented: readonly X509Certificate[], maxDepth: number): { path: X509Certificate[]; anchored: boolean } {
    const path = [presented[0]];
    for (let current = presented[0]; path.length <= maxDepth; ) {
      const anchor = this.anchors.find((a) => !path.includes(a) && issuedBy(current, a));
      if (anchor) return { path: [...path, anchor], anchored: true };
      if (isSelfSigned(current)) break;
      const next = presented.find((c) => c !== current && !path.includes(c) && issuedBy(current, c));
      if (!next) break;
      path.push(next);
      current = next;
    }
    return { path, anchored: false };
  }
}
