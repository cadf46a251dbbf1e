import { createHash, X509Certificate } from "node:crypto";
import { ChainVerifier, ChainRefusal, describe, VerifyPolicy } from "../pki/chain-verify";
import { issuerRfc2253, subjectRfc2253 } from "../pki/dn";
import { encodeUrlAws } from "../protocol/forwarded-cert";
import { toPem } from "../../core/pem";
import type { ListenerModel } from "../terraform/stack-model";
import { ALERT } from "./tls-wire/alerts";

/**
 * What the ALB does with a client certificate, computed once per TLS connection from the chain the
 * client sent: in verify mode the verdict under AWS's rules and the five X-Amzn-Mtls-Clientcert-*
 * headers; in passthrough mode the presented chain, leaf first.
 */

/**
 * AWS's rules for client certificates in verify mode. ELB user guide, "Mutual authentication with
 * TLS in Application Load Balancer", Requirements for certificates: "Supported certificate:
 * X.509v3", "Supported public keys: RSA 2K – 8K or ECDSA secp256r1, secp384r1, secp521r1",
 * "Supported signature algorithms: SHA256, 384, 512 with RSA/SHA256, 384, 512 with EC/SHA256,384,512
 * hash with RSASSA-PSS with MGF1". "Quotas for your Application Load Balancers", Certificates:
 * "Maximum certificate chain depth 4", "CA certificate size 16 KB", "TLS message size 64K".
 * The rest is chosen and listed in scenarios/assumptions.ts: which certificates count toward the
 * depth ("alb-chain-depth"), size ("alb-cert-size"), purpose ("alb-purpose"), stale CRLs
 * ("trust-store-stale-crl"), a trust store holding intermediates ("alb-partial-chain").
 */
export const AWS_MAX_CHAIN_DEPTH = 4;
export const AWS_VERIFY_POLICY: VerifyPolicy = {
  maxDepth: AWS_MAX_CHAIN_DEPTH,
  keyPolicy: "aws",
  requireV3: true,
  signatureAlgorithms: "aws",
  issuersMustBeCa: true,
  clientAuthPurpose: true,
  maxBytes: { certificate: 16 * 1024, chain: 64 * 1024 },
  staleCrlIsError: true,
};

/**
 * Connection-log `tls_verify_status` codes (ELB user guide, "Connection logs for your Application
 * Load Balancer", Error reason codes). Which code a cause gets where AWS names none is an
 * assumption (scenarios/assumptions.ts "alb-verify-codes"). Not produced: ClientCertRejected
 * ("rejected by custom server validation": an ALB listener offers no custom validation).
 */
export const REFUSAL_CODES: Readonly<Record<ChainRefusal, string>> = {
  "no-certificate": "UnmappedConnectionError",
  "too-large": "ClientCertMaxSizeExceeded",
  malformed: "ClientCertInvalid",
  "too-deep": "ClientCertMaxChainDepthExceeded",
  "signature-algorithm": "ClientCertIncompatible",
  "unsupported-key": "ClientCertTypeUnsupported",
  "not-v3": "ClientCertTypeUnsupported",
  untrusted: "ClientCertUntrusted",
  purpose: "ClientCertPurposeInvalid",
  "not-yet-valid": "ClientCertNotYetValid",
  expired: "ClientCertExpired",
  "crl-processing": "ClientCertCrlProcessingError",
  revoked: "ClientCertCrlHit",
};

/**
 * The TLS alert a refused client receives. AWS documents none; these are the alerts OpenSSL sends
 * for the matching verification errors (so a client reports what nginx would make it report);
 * scenarios/assumptions.ts "alb-refusal-alerts". A missing certificate: `certificate_required` in
 * TLS 1.3, `handshake_failure` before (what OpenSSL sends, measured).
 */
export const REFUSAL_ALERTS: Readonly<Record<Exclude<ChainRefusal, "no-certificate">, number>> = {
  "too-large": ALERT.badCertificate,
  malformed: ALERT.decodeError,
  "too-deep": ALERT.badCertificate,
  "signature-algorithm": ALERT.badCertificate,
  "unsupported-key": ALERT.unsupportedCertificate,
  "not-v3": ALERT.unsupportedCertificate,
  untrusted: ALERT.unknownCa,
  purpose: ALERT.unsupportedCertificate,
  "not-yet-valid": ALERT.badCertificate,
  expired: ALERT.certificateExpired,
  "crl-processing": ALERT.certificateUnknown,
  revoked: ALERT.certificateRevoked,
};

export function refusalAlert(reason: ChainRefusal, tls13: boolean): number {
  if (reason === "no-certificate") return tls13 ? ALERT.certificateRequired : ALERT.handshakeFailure;
  return REFUSAL_ALERTS[reason];
}

export interface ClientCertOutcome {
  /** false: verify mode refuses the connection. */
  readonly accepted: boolean;
  /** Connection-log status: `Success` or `Failed:<code>`. */
  readonly verifyStatus: string;
  /** Set when refused. */
  readonly refusal?: ChainRefusal;
  /** Why it was refused (or what was verified), in words (for the explanation log). */
  readonly detail?: string;
  /** Headers to add to every request of the connection: [name, value, name, value, ...]. */
  readonly headers: readonly string[];
  /** Connection-log fields of the leaf ('-' when there is none or mTLS is off). */
  readonly logSubject: string;
  readonly logValidity: string;
  readonly logSerial: string;
  /** When an acceptance stops holding (the earliest notAfter, unless expiry is ignored). */
  readonly expiresAt?: number;
}

function isoSeconds(date: string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** `NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z` */
export function validityOf(cert: X509Certificate): string {
  return `NotBefore=${isoSeconds(cert.validFrom)};NotAfter=${isoSeconds(cert.validTo)}`;
}

/** The leaf's connection-log fields; '-' when it cannot be parsed ("not able to load/parse the leaf"). */
function leafLogFields(der: Buffer | undefined): Pick<ClientCertOutcome, "logSubject" | "logValidity" | "logSerial"> {
  try {
    const leaf = der && new X509Certificate(der);
    if (leaf) return { logSubject: subjectRfc2253(leaf), logValidity: validityOf(leaf), logSerial: leaf.serialNumber.toUpperCase() };
  } catch {
    // below
  }
  return { logSubject: "-", logValidity: "-", logSerial: "-" };
}

/** Outcomes of accepted chains, by the chain's DER, so that a device reconnecting costs no re-parse. */
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

const NONE: ClientCertOutcome = { accepted: true, verifyStatus: "Success", headers: [], logSubject: "-", logValidity: "-", logSerial: "-" };

export class ClientCertPolicy {
  private readonly cache = new Map<string, { readonly outcome: ClientCertOutcome; readonly until: number }>();
  private readonly mode: ListenerModel["mutualAuthentication"]["mode"];
  private readonly names: ListenerModel["headerNames"];
  private readonly policy: VerifyPolicy;

  constructor(
    listener: ListenerModel,
    /** Required in verify mode: the listener's trust store. */
    private readonly verifier?: ChainVerifier,
  ) {
    this.mode = listener.mutualAuthentication.mode;
    this.names = listener.headerNames;
    this.policy = { ...AWS_VERIFY_POLICY, ignoreExpiry: listener.mutualAuthentication.ignoreClientCertificateExpiry };
    if (this.mode === "verify" && !verifier) throw new Error("ClientCertPolicy: you must give a verifier when 'mode' is 'verify'");
  }

  /** Whether the listener asks clients for a certificate (passthrough and verify). */
  get requestsCertificate(): boolean {
    return this.mode !== "off";
  }

  /** The outcome for the chain a client presented (DER, leaf first, as sent; empty: none). */
  evaluate(ders: readonly Buffer[], now = new Date()): ClientCertOutcome {
    if (this.mode === "off") return NONE;
    if (ders.length === 0) return this.decide(ders, now);
    // Only accepted outcomes are cached, until the TTL or the earliest notAfter of the chain (re-checked then).
    // Keyed by the chain's digest, not its text: every held device has an entry (~3.5 KiB of base64 key each otherwise).
    const hash = createHash("sha256");
    for (const d of ders) hash.update(d); // DER certificates carry their own lengths: the concatenation is unambiguous
    const key = hash.digest("base64");
    const t = now.getTime();
    const hit = this.cache.get(key);
    if (hit && hit.until > t) return hit.outcome;
    const outcome = this.decide(ders, now);
    if (outcome.accepted) {
      this.dropExpired(t);
      if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { outcome, until: Math.min(t + CACHE_TTL_MS, outcome.expiresAt ?? Infinity) });
    }
    return outcome;
  }

  /** Entries past their time, oldest first (insertion order): what a cache of held devices would otherwise keep until it is full. */
  private dropExpired(t: number): void {
    for (const [key, entry] of this.cache) {
      if (entry.until > t) break;
      this.cache.delete(key);
    }
  }

  private decide(ders: readonly Buffer[], now: Date): ClientCertOutcome {
    const logFields = leafLogFields(ders[0]);
    if (this.mode === "passthrough") {
      // ELB user guide, "Mutual authentication with TLS": passthrough sends "the entire client certificate chain presented
      // in the connection", leaf first. No certificate: AWS documents nothing; we forward without the header (design section 3).
      return { accepted: true, verifyStatus: "Success", headers: ders.length > 0 ? [this.names.clientcert, ders.map((d) => encodeUrlAws(toPem("CERTIFICATE", d))).join("")] : [], ...logFields };
    }
    const verdict = this.verifier!.verifyDer(ders, { ...this.policy, now });
    if (!verdict.ok) {
      const leaf = verdict.certificates[0];
      const who = leaf ? describe(leaf) : "";
      const detail = leaf && !verdict.detail.includes(who) ? `${who}: ${verdict.detail}` : verdict.detail;
      return { accepted: false, verifyStatus: `Failed:${REFUSAL_CODES[verdict.reason]}`, refusal: verdict.reason, detail, headers: [], ...logFields };
    }
    const leaf = verdict.certificates[0];
    const n = this.names;
    const headers = [
      n.serialNumber, leaf.serialNumber.toUpperCase(),
      n.issuer, issuerRfc2253(leaf),
      n.subject, subjectRfc2253(leaf),
      n.validity, validityOf(leaf),
      n.leaf, encodeUrlAws(leaf.toString()),
    ];
    const expiresAt = this.policy.ignoreExpiry ? undefined : Math.min(...verdict.path.map((c) => Date.parse(c.validTo)));
    return { accepted: true, verifyStatus: "Success", detail: `verified ${describe(leaf)}`, headers, expiresAt, ...logFields };
  }
}
