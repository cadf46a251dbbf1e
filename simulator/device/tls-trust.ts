import * as https from "node:https";
import type { TLSSocket } from "node:tls";
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

/** One HTTPS request on a fresh connection. Rejects with HttpsRequestError. */
export function httpsRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; trust: TlsTrust; identity?: ClientIdentityPem; timeoutMs?: number; maxBodyBytes?: number },
): Promise<HttpsAnswer> {
  const u = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const facts = { tlsEstablished: false, tlsProtocol: undefined as string | undefined, clientCertSent: init.identity !== undefined, answered: false };
    const req = https.request(
      {
        host: u.hostname.replace(/^\[|\]$/g, ""),
        port: u.port || 443,
        path: u.pathname + u.search,
        method: init.method ?? "GET",
        headers: { ...(init.body !== undefined ? { "content-length": String(Buffer.byteLength(init.body)) } : {}), ...init.headers },
        ca: init.trust.caPem,
        servername: init.trust.serverName ?? u.hostname,
        cert: init.identity?.certChainPem,
        key: init.identity?.keyPem,
        agent: false,
        timeout: init.timeoutMs ?? 15_000,
      },
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
