import { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket, DetailedPeerCertificate } from "node:tls";
import { decodeForwardedCert, ForwardedCertError } from "../protocol/forwarded-cert";
import type { ChainVerifier, VerifyPolicy } from "../pki/chain-verify";
import { commonName } from "../pki/dn";
import type { ClientCertForwarding } from "../../core/ums-app-config";

/**
 * Where a request's client certificate is read from: exactly one source, chosen by
 * application.yml — the configured forwarded header when client-cert forwarding is enabled, the
 * TLS peer certificate when it is not, never both. Each component verifies the chain against its
 * own trust (the UMS its device CA, the ICG the device CA it learnt from the UMS) with the same rules.
 * Shared by the mock UMS and the ICG, which read certificates the same way; `reader` names the
 * component in refusal reasons.
 */

export type IdentitySource = "tls-peer" | "forwarded-header";

export type ChainReading =
  | {
      readonly ok: true;
      readonly source: IdentitySource;
      /** The certificates as presented or forwarded, leaf first. */
      readonly chain: X509Certificate[];
      /** How to name the certificate in messages, e.g. `TLS peer certificate`. */
      readonly what: string;
    }
  | {
      readonly ok: false;
      readonly source: IdentitySource;
      /** 401: no certificate; 400: an unreadable header; 431: an oversized header. */
      readonly status: 400 | 401 | 431;
      readonly error: string;
      readonly reason: string;
    };

/** A refused client certificate, whether it could not be read or did not verify. */
export type ClientChainRefusal = Extract<ChainReading, { ok: false }> & {
  /** The CN of a certificate that was read but refused (for logs; not an identity). */
  readonly claimedUnitId?: string;
};

export interface VerifiedDevice {
  readonly ok: true;
  readonly source: IdentitySource;
  /** The certificate's CN: the device's unit id. */
  readonly unitId: string;
  /** As presented or forwarded, leaf first. */
  readonly chain: readonly X509Certificate[];
  /** The verified path, leaf to trust anchor. */
  readonly path: readonly X509Certificate[];
}

/**
 * The device checks the UMS and the ICG both make: the chain verifies against `verifier` under the
 * component's own `policy` and its leaf names a device (CN). `refusedBy` goes into refusal reasons.
 */
export function verifyDeviceChain(chain: readonly X509Certificate[], source: IdentitySource, what: string, verifier: ChainVerifier, policy: VerifyPolicy, refusedBy?: string): VerifiedDevice | ClientChainRefusal {
  const verdict = verifier.verify(chain, policy);
  if (!verdict.ok) {
    const refused = refusedBy ? `refused by ${refusedBy}` : "refused";
    return { ok: false, source, status: 401, error: `certificate-${verdict.reason}`, reason: `${what} ${refused} (${verdict.reason}): ${verdict.detail}`, claimedUnitId: chain[0] && commonName(chain[0]) };
  }
  const unitId = commonName(chain[0]);
  if (!unitId) return { ok: false, source, status: 401, error: "certificate-no-unit-id", reason: `${what} has no CN, so it names no device` };
  return { ok: true, source, unitId, chain, path: verdict.path };
}

/** Header names a request carried that look like forwarded certificates (for explaining refusals). */
function certificateHeaders(req: IncomingMessage): string[] {
  return Object.keys(req.headers).filter((h) => /cert|mtls|ssl-client/i.test(h));
}

/** The chain the TLS peer presented, leaf first, as Node completed it. */
export function peerChain(socket: TLSSocket): X509Certificate[] {
  const peer = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  if (!peer || !peer.raw) return [];
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    chain.push(new X509Certificate(c.raw));
  }
  return chain;
}

/**
 * encodingType not set: the header value is read as a PEM as it is (whitespace for line breaks).
 * A URL-encoded value does not parse that way, and the refusal says so.
 */
function plainPemCertificates(value: string): X509Certificate[] {
  const blocks = value.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => {
    const body = b.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
    return new X509Certificate(Buffer.from(body, "base64"));
  });
}

/** Reads the client certificate chain of a request from the one source `forwarding` selects. */
export function readClientChain(req: IncomingMessage, forwarding: ClientCertForwarding, reader = "UMS"): ChainReading {
  return forwarding.enabled ? fromHeader(req, forwarding.header, forwarding.encodingType, reader) : fromTlsPeer(req, reader);
}

function fromTlsPeer(req: IncomingMessage, reader: string): ChainReading {
  const socket = req.socket as TLSSocket;
  const chain = typeof socket.getPeerCertificate === "function" ? peerChain(socket) : [];
  if (chain.length > 0) return { ok: true, source: "tls-peer", chain, what: "TLS peer certificate" };
  const carried = certificateHeaders(req);
  return {
    ok: false,
    source: "tls-peer",
    status: 401,
    error: "no-client-certificate",
    reason:
      `no client certificate in the TLS handshake (client-cert forwarding is off in application.yml, so the ${reader} reads the TLS peer certificate only)` +
      (carried.length > 0 ? `; the request carried ${carried.join(", ")}, which the ${reader} ignores while forwarding is off` : ""),
  };
}

function fromHeader(req: IncomingMessage, header: string, encoding: "URL_AWS" | undefined, reader: string): ChainReading {
  const raw = req.headers[header.toLowerCase()];
  const value = Array.isArray(raw) ? raw.join(",") : raw;
  if (value === undefined || value.trim() === "") {
    const carried = certificateHeaders(req);
    return {
      ok: false,
      source: "forwarded-header",
      status: 401,
      error: "no-client-certificate",
      reason:
        `no client certificate in header ${header} (forwarding enabled in application.yml); ` +
        (carried.length > 0 ? `requests carried: ${carried.join(", ")}` : "the request carried no certificate header"),
    };
  }
  let chain: X509Certificate[];
  if (encoding === "URL_AWS") {
    try {
      chain = decodeForwardedCert(value);
    } catch (e) {
      if (!(e instanceof ForwardedCertError)) throw e;
      return {
        ok: false,
        source: "forwarded-header",
        status: e.reason === "too-large" ? 431 : e.reason === "empty" ? 401 : 400,
        error: `forwarded-certificate-${e.reason}`,
        reason: `header ${header}: ${e.message}`,
      };
    }
  } else {
    const urlEncoded = /%[0-9A-Fa-f]{2}/.test(value) && !value.includes("-----BEGIN CERTIFICATE-----");
    try {
      chain = urlEncoded ? [] : plainPemCertificates(value);
    } catch {
      chain = [];
    }
    if (chain.length === 0) {
      return {
        ok: false,
        source: "forwarded-header",
        status: 400,
        error: "forwarded-certificate-encoding",
        reason: urlEncoded
          ? `header ${header} holds a URL-encoded certificate, but encodingType is not URL_AWS in application.yml, so the ${reader} does not decode it (fix: encodingType: URL_AWS)`
          : `header ${header} holds no PEM certificate the ${reader} can read (encodingType is not set in application.yml, so it expects a plain PEM)`,
      };
    }
  }
  return { ok: true, source: "forwarded-header", chain, what: `certificate in header ${header}` };
}
