import * as https from "node:https";
import { createSecureContext, SecureContext, TLSSocket } from "node:tls";
import type { IncomingHttpHeaders } from "node:http";
import type { ConnectionFacts } from "./refusal";

/**
 * What a device (or browser) trusts and presents in TLS: the UMS web root CA, the cluster FQDN as
 * the server name (SNI and certificate check, even when connecting to 127.0.0.1), and optionally
 * a client certificate. No session reuse: an ALB does not resume sessions, and every device is its
 * own client.
 */

export interface TlsTrust {
  /** PEM of the CA(s) that issued the server certificate. */
  readonly caPem: string;
  /** Server name for SNI and the certificate check. @default the URL's host */
  readonly serverName?: string;
}

export interface ClientIdentityPem {
  /** The device certificate followed by its chain, leaf first. */
  readonly certChainPem: string;
  readonly keyPem: string;
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Time from request start to the last byte, ms. */
  readonly ms: number;
}

export class HttpsRequestError extends Error {
  constructor(
    readonly cause: NodeJS.ErrnoException,
    /** What the client knew about the connection when it failed. */
    readonly facts: ConnectionFacts,
  ) {
    super(cause.message);
  }
}

/**
 * The TLS context of a trust (and identity), built once and kept while both objects live: a device's
 * TLS configuration is fixed, so every connection of a device reuses its context instead of parsing
 * the CA, certificate and key again (the largest CPU cost of a fleet after the handshakes
 * themselves). Contexts never resume sessions on their own (Node keeps no client session cache), so
 * every connection is still a full handshake, as towards an ALB.
 */
const contexts = new WeakMap<TlsTrust, { anonymous?: SecureContext; byIdentity: WeakMap<ClientIdentityPem, SecureContext> }>();

/**
 * A device trusts the CA it was given as an anchor, root or not (`allowPartialTrustChain`, OpenSSL's
 * X509_V_FLAG_PARTIAL_CHAIN): an administrator's web chain often ends at an intermediate whose root
 * is in the device's store, and a served chain missing a certificate still fails, as it should.
 */
function contextOf(trust: TlsTrust, identity?: ClientIdentityPem): SecureContext {
  const options = { ca: trust.caPem, allowPartialTrustChain: true, ...(identity ? { cert: identity.certChainPem, key: identity.keyPem } : {}) };
  return createSecureContext(options as Parameters<typeof createSecureContext>[0]);
}

export function secureContextOf(trust: TlsTrust, identity?: ClientIdentityPem): SecureContext {
  let entry = contexts.get(trust);
  if (!entry) contexts.set(trust, (entry = { byIdentity: new WeakMap() }));
  if (!identity) return (entry.anonymous ??= contextOf(trust));
  let context = entry.byIdentity.get(identity);
  if (!context) entry.byIdentity.set(identity, (context = contextOf(trust, identity)));
  return context;
}

/** One HTTPS request on a fresh connection. Rejects with HttpsRequestError. */
export function httpsRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; trust: TlsTrust; identity?: ClientIdentityPem; timeoutMs?: number; maxBodyBytes?: number },
): Promise<HttpsAnswer> {
  const u = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const facts = { tlsEstablished: false, tlsProtocol: undefined as string | undefined, clientCertSent: init.identity !== undefined, answered: false };
    // tls.connect honours `secureContext`; @types/node leaves it out of https.RequestOptions.
    const options: https.RequestOptions & { secureContext: SecureContext } = {
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: u.port || 443,
      path: u.pathname + u.search,
      method: init.method ?? "GET",
      headers: { ...(init.body !== undefined ? { "content-length": String(Buffer.byteLength(init.body)) } : {}), ...init.headers },
      secureContext: secureContextOf(init.trust, init.identity),
      servername: init.trust.serverName ?? u.hostname,
      agent: false,
      timeout: init.timeoutMs ?? 15_000,
    };
    const req = https.request(
      options,
      (res) => {
        facts.answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > (init.maxBodyBytes ?? 64 * 1024 * 1024)) req.destroy(Object.assign(new Error("response body too large"), { code: "ERESPONSETOOLARGE" }));
          else chunks.push(c);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }));
        res.on("error", (e) => reject(new HttpsRequestError(e, facts)));
      },
    );
    req.on("socket", (s) =>
      (s as TLSSocket).once("secureConnect", () => {
        facts.tlsEstablished = true;
        facts.tlsProtocol = (s as TLSSocket).getProtocol() ?? undefined;
      }),
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${init.timeoutMs ?? 15_000} ms`), { code: "ETIMEDOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => reject(new HttpsRequestError(e, facts)));
    req.end(init.body);
  });
}
