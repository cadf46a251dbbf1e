import * as tls from "node:tls";
import { isIP } from "node:net";
import type { X509Certificate } from "node:crypto";

/** One TLS connection attempt and what it showed. */
export interface TlsAttempt {
  /** The handshake completed and the server answered (it did not refuse the client afterwards). */
  readonly ok: boolean;
  /**
   * The client saw the handshake complete (the server chose this protocol and sent its certificate),
   * even if the server then refused the client: in TLS 1.3 a server that requires a client
   * certificate says so only after the client's side of the handshake is done.
   */
  readonly handshake: boolean;
  /** Negotiated protocol, e.g. TLSv1.3 (set when `handshake`). */
  readonly protocol?: string;
  /** Negotiated cipher suite, OpenSSL's name (set when `handshake`). */
  readonly cipher?: string;
  readonly peerCertificate?: X509Certificate;
  /** What the server sent, leaf first, in issuer order (PEM). */
  readonly peerChainPem?: string[];
  /** OpenSSL's error code or message when the handshake or the first read failed. */
  readonly error?: string;
}

export interface TlsTarget {
  readonly host: string;
  readonly port: number;
  /** SNI and the name the server certificate must carry. */
  readonly servername: string;
  /** Client certificate chain and key (PEM), when testing mTLS. */
  readonly cert?: string;
  readonly key?: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

export interface TlsProbeOptions {
  /** OpenSSL cipher list for TLS 1.2 and older (e.g. only ciphers without forward secrecy). @default OpenSSL's */
  readonly ciphers?: string;
}

/**
 * Connects once with the given protocol bounds and, after the handshake, sends a tiny HTTP request
 * and waits for the first byte: in TLS 1.3 a server that requires a client certificate refuses it
 * only after the handshake completes on the client side ("certificate required" alert).
 */
export function tryTls(target: TlsTarget, minVersion: tls.SecureVersion, maxVersion: tls.SecureVersion, options: TlsProbeOptions = {}): Promise<TlsAttempt> {
  return new Promise((resolve) => {
    let settled = false;
    let seen: Omit<TlsAttempt, "ok" | "error"> = { handshake: false };
    const legacy = maxVersion === "TLSv1" || maxVersion === "TLSv1.1";
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      // SNI carries names only (RFC 6066), never an address.
      servername: isIP(target.servername) ? undefined : target.servername,
      minVersion,
      maxVersion,
      // OpenSSL 3 refuses TLS 1.0/1.1 at the default security level: lower it to see what the server offers.
      ciphers: options.ciphers ?? (legacy ? "DEFAULT@SECLEVEL=0" : undefined),
      rejectUnauthorized: false,
      cert: target.cert,
      key: target.key,
    });
    const done = (attempt: Pick<TlsAttempt, "ok" | "error">) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ ...seen, ...attempt });
    };
    socket.setTimeout(target.timeoutMs ?? 5000, () => done({ ok: false, error: "timeout" }));
    socket.on("error", (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    socket.on("close", () => done({ ok: false, error: "connection closed by the server" }));
    socket.on("secureConnect", () => {
      const chain: string[] = [];
      for (let c = socket.getPeerCertificate(true); c && c.raw; c = c.issuerCertificate === c ? (undefined as never) : c.issuerCertificate) {
        chain.push(`-----BEGIN CERTIFICATE-----\n${c.raw.toString("base64")}\n-----END CERTIFICATE-----\n`);
        if (chain.length > 8) break;
      }
      seen = {
        handshake: true,
        protocol: socket.getProtocol() ?? undefined,
        cipher: socket.getCipher()?.name,
        peerCertificate: socket.getPeerX509Certificate(),
        peerChainPem: chain,
      };
      socket.write(`HEAD / HTTP/1.1\r\nHost: ${target.servername}\r\nConnection: close\r\n\r\n`);
      socket.once("data", () => done({ ok: true }));
    });
  });
}
