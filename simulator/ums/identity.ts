import { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket, DetailedPeerCertificate } from "node:tls";
import { ChainVerifier, commonName } from "../pki";
import { decodeForwardedCert, ForwardedCertError } from "../protocol/forwarded-cert";
import type { ClientCertForwarding } from "./app-config";

/**
 * Who is this request from? Exactly one source, chosen by application.yml: the configured forwarded
 * header when client-cert forwarding is enabled, the TLS peer certificate when it is not — never
 * both. The chain is verified the way a UMS does it (chain to the device CA, validity, revocation),
 * without the ALB's extra limits (depth 4, key types, X.509 v3): a device refused by an ALB in
 * verify mode may well be accepted here, which is a finding the report shows.
 */

export type IdentitySource = "tls-peer" | "forwarded-header";

export type IdentityResult =
  | {
      readonly ok: true;
      readonly source: IdentitySource;
      /** The certificate's CN: the device's unit id. */
      readonly unitId: string;
      readonly leaf: X509Certificate;
      /** The verified path, leaf to trust anchor. */
      readonly path: readonly X509Certificate[];
    }
  | {
      readonly ok: false;
      readonly source: IdentitySource;
      /** 401: no or unacceptable certificate; 400: an unreadable header; 431: an oversized header. */
      readonly status: 400 | 401 | 431;
      /** Short machine-readable code, e.g. `certificate-expired`. */
      readonly error: string;
      /** A sentence saying which rule refused and why. */
      readonly reason: string;
      /** The CN of a certificate that was read but refused (for logs; not an identity). */
      readonly claimedUnitId?: string;
    };

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

export class IdentityResolver {
  constructor(
    private readonly forwarding: ClientCertForwarding,
    private readonly verifier: ChainVerifier,
  ) {}

  get source(): IdentitySource {
    return this.forwarding.enabled ? "forwarded-header" : "tls-peer";
  }

  resolve(req: IncomingMessage): IdentityResult {
    return this.forwarding.enabled ? this.fromHeader(req, this.forwarding.header, this.forwarding.encodingType) : this.fromTlsPeer(req);
  }

  private fromTlsPeer(req: IncomingMessage): IdentityResult {
    const socket = req.socket as TLSSocket;
    const chain = typeof socket.getPeerCertificate === "function" ? peerChain(socket) : [];
    if (chain.length === 0) {
      const carried = certificateHeaders(req);
      return {
        ok: false,
        source: "tls-peer",
        status: 401,
        error: "no-client-certificate",
        reason:
          "no client certificate in the TLS handshake (client-cert forwarding is off in application.yml, so the UMS reads the TLS peer certificate only)" +
          (carried.length > 0 ? `; the request carried ${carried.join(", ")}, which the UMS ignores while forwarding is off` : ""),
      };
    }
    return this.verify(chain, "tls-peer", "TLS peer certificate");
  }

  private fromHeader(req: IncomingMessage, header: string, encoding: "URL_AWS" | undefined): IdentityResult {
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
            ? `header ${header} holds a URL-encoded certificate, but encodingType is not URL_AWS in application.yml, so the UMS does not decode it (fix: encodingType: URL_AWS)`
            : `header ${header} holds no PEM certificate the UMS can read (encodingType is not set in application.yml, so it expects a plain PEM)`,
        };
      }
    }
    return this.verify(chain, "forwarded-header", `certificate in header ${header}`);
  }

  private verify(chain: X509Certificate[], source: IdentitySource, what: string): IdentityResult {
    const verdict = this.verifier.verify(chain);
    if (!verdict.ok) {
      return { ok: false, source, status: 401, error: `certificate-${verdict.reason}`, reason: `${what} refused (${verdict.reason}): ${verdict.detail}`, claimedUnitId: commonName(chain[0]) };
    }
    const unitId = commonName(chain[0]);
    if (!unitId) return { ok: false, source, status: 401, error: "certificate-no-unit-id", reason: `${what} has no CN, so it names no device` };
    return { ok: true, source, unitId, leaf: chain[0], path: verdict.path };
  }
}
