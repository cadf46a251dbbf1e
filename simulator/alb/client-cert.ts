import { X509Certificate } from "node:crypto";
import type { TLSSocket, DetailedPeerCertificate } from "node:tls";
import { ChainVerifier, ChainRefusal, describe } from "../pki/chain-verify";
import { issuerRfc2253, subjectRfc2253 } from "../pki/dn";
import { encodeUrlAws } from "../protocol/forwarded-cert";
import type { ListenerModel } from "../terraform/stack-model";

/**
 * What the ALB does with a client certificate, computed once per TLS connection: in verify mode
 * the verdict (AWS's limits: depth 4, RSA 2048-8192 / ECDSA P-256/384/521, X.509 v3, CRLs) and the
 * five X-Amzn-Mtls-Clientcert-* headers; in passthrough mode the presented chain, leaf first.
 */

/** AWS's maximum client certificate chain depth (ELB quotas: "certificate chain depth 4"). */
export const AWS_MAX_CHAIN_DEPTH = 4;

/**
 * Connection-log `tls_verify_status` codes (ELB user guide, "Connection logs", error reason codes).
 * AWS documents no code for a missing certificate; we use the catch-all UnmappedConnectionError.
 */
export const REFUSAL_CODES: Readonly<Record<ChainRefusal, string>> = {
  "no-certificate": "UnmappedConnectionError",
  malformed: "ClientCertInvalid",
  "unsupported-key": "ClientCertTypeUnsupported",
  "not-v3": "ClientCertTypeUnsupported",
  untrusted: "ClientCertUntrusted",
  "too-deep": "ClientCertMaxChainDepthExceeded",
  "not-yet-valid": "ClientCertNotYetValid",
  expired: "ClientCertExpired",
  revoked: "ClientCertCrlHit",
};

export interface ClientCertOutcome {
  /** false: verify mode refuses the connection. */
  readonly accepted: boolean;
  /** Connection-log status: `Success` or `Failed:<code>`. */
  readonly verifyStatus: string;
  /** Why it was refused, in words (for the explanation log). */
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

/**
 * The DER of the certificates the client presented, leaf first, as Node exposes them: the leaf,
 * then the presented certificates that continue its issuer path (Node orders them along the path).
 */
export function presentedDer(socket: TLSSocket): { ders: Buffer[]; error?: string } {
  let peer: DetailedPeerCertificate;
  try {
    peer = socket.getPeerCertificate(true);
  } catch (e) {
    return { ders: [], error: (e as Error).message };
  }
  const ders: Buffer[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  for (let c: DetailedPeerCertificate | undefined = peer; c && c.raw && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c);
    ders.push(c.raw);
  }
  return { ders };
}

function parse(ders: readonly Buffer[]): { certs: X509Certificate[]; malformed?: string } {
  const certs: X509Certificate[] = [];
  for (const der of ders) {
    try {
      certs.push(new X509Certificate(der));
    } catch (e) {
      return { certs, malformed: (e as Error).message };
    }
  }
  return { certs };
}

/** Outcomes of accepted chains, by the chain's DER, so that a device reconnecting costs no re-parse. */
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

const NONE: ClientCertOutcome = { accepted: true, verifyStatus: "Success", headers: [], logSubject: "-", logValidity: "-", logSerial: "-" };

export class ClientCertPolicy {
  private readonly cache = new Map<string, { readonly outcome: ClientCertOutcome; readonly until: number }>();
  private readonly mode: ListenerModel["mutualAuthentication"]["mode"];
  private readonly names: ListenerModel["headerNames"];
  private readonly ignoreExpiry: boolean;

  constructor(
    listener: ListenerModel,
    /** Required in verify mode: the listener's trust store. */
    private readonly verifier?: ChainVerifier,
  ) {
    this.mode = listener.mutualAuthentication.mode;
    this.names = listener.headerNames;
    this.ignoreExpiry = listener.mutualAuthentication.ignoreClientCertificateExpiry;
    if (this.mode === "verify" && !verifier) throw new Error("ClientCertPolicy: you must give a verifier when 'mode' is 'verify'");
  }

  /** The outcome for a connection whose handshake just completed. */
  evaluate(socket: TLSSocket, now = new Date()): ClientCertOutcome {
    if (this.mode === "off") return NONE;
    const { ders, error } = presentedDer(socket);
    if (error || ders.length === 0) return this.decide(ders, now);
    // Only accepted outcomes are cached, until the TTL or the earliest notAfter of the chain (re-checked then).
    const key = ders.map((d) => d.toString("base64")).join(".");
    const t = now.getTime();
    const hit = this.cache.get(key);
    if (hit && hit.until > t) return hit.outcome;
    const outcome = this.decide(ders, now);
    if (outcome.accepted) {
      if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { outcome, until: Math.min(t + CACHE_TTL_MS, outcome.expiresAt ?? Infinity) });
    }
    return outcome;
  }

  private decide(ders: readonly Buffer[], now: Date): ClientCertOutcome {
    const { certs, malformed } = parse(ders);
    const leaf = certs[0];
    const logFields = leaf
      ? { logSubject: subjectRfc2253(leaf), logValidity: validityOf(leaf), logSerial: leaf.serialNumber.toUpperCase() }
      : { logSubject: "-", logValidity: "-", logSerial: "-" };

    if (this.mode === "passthrough") {
      // No certificate: AWS documents nothing; we forward without the header (design section 3).
      const headers = leaf ? [this.names.clientcert, certs.map((c) => encodeUrlAws(c.toString())).join("")] : [];
      return { accepted: true, verifyStatus: "Success", headers, ...logFields };
    }

    if (malformed) {
      return { accepted: false, verifyStatus: `Failed:${REFUSAL_CODES.malformed}`, detail: `the client certificate does not parse: ${malformed}`, headers: [], ...logFields };
    }
    const verdict = this.verifier!.verify(certs, { maxDepth: AWS_MAX_CHAIN_DEPTH, ignoreExpiry: this.ignoreExpiry, keyPolicy: "aws", requireV3: true, now });
    if (!verdict.ok) {
      // Say whose certificate it was when the verifier's detail does not.
      const who = leaf ? describe(leaf) : "";
      const detail = leaf && !verdict.detail.includes(who) ? `${who}: ${verdict.detail}` : verdict.detail;
      return { accepted: false, verifyStatus: `Failed:${REFUSAL_CODES[verdict.reason]}`, detail, headers: [], ...logFields };
    }
    const n = this.names;
    const headers = [
      n.serialNumber, leaf.serialNumber.toUpperCase(),
      n.issuer, issuerRfc2253(leaf),
      n.subject, subjectRfc2253(leaf),
      n.validity, validityOf(leaf),
      n.leaf, encodeUrlAws(leaf.toString()),
    ];
    const expiresAt = this.ignoreExpiry ? undefined : Math.min(...verdict.path.map((c) => Date.parse(c.validTo)));
    return { accepted: true, verifyStatus: "Success", detail: `verified ${describe(leaf)}`, headers, expiresAt, ...logFields };
  }
}
