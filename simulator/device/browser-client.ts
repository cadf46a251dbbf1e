import * as fs from "node:fs";
import { ROUTES } from "../protocol/routes";
import { httpsRequest, HttpsRequestError, TlsTrust } from "./tls-trust";
import { DeviceRefusal, refusalFromError } from "./refusal";

/**
 * What an administrator's browser does with the UMS Web App: plain HTTPS, trusting the web
 * certificate's CA, never presenting a client certificate. Used to check that `/wums-app/` and
 * `/webapp/` are reachable on the listener each topology puts them on.
 */

export interface BrowserClientOptions {
  /** The address a browser opens, e.g. `https://ums.example.com:443`. */
  readonly baseUrl: string;
  /** PEM file of the CA the browser trusts for the server certificate. */
  readonly trustedCaFile: string;
  /** Server name (SNI and certificate check). @default the host of `baseUrl` */
  readonly serverName?: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

export type BrowserPage =
  | { readonly ok: true; readonly path: string; readonly status: number; readonly contentType?: string; readonly body: string; readonly ms: number }
  | { readonly ok: false; readonly path: string; readonly refusal: DeviceRefusal };

export class BrowserClient {
  private readonly trust: TlsTrust;

  constructor(private readonly options: BrowserClientOptions) {
    this.trust = { caPem: fs.readFileSync(options.trustedCaFile, "utf8"), serverName: options.serverName };
  }

  /** GET a path; a TLS or network failure comes back as a refusal, any HTTP answer as a page. */
  async get(path: string): Promise<BrowserPage> {
    try {
      const answer = await httpsRequest(new URL(path, this.options.baseUrl).toString(), {
        trust: this.trust,
        headers: { accept: "text/html", "user-agent": "ums-edge-browser/1.0" },
        timeoutMs: this.options.timeoutMs ?? 10_000,
        maxBodyBytes: 4 * 1024 * 1024,
      });
      const contentType = answer.headers["content-type"];
      return { ok: true, path, status: answer.status, contentType, body: answer.body.toString("utf8"), ms: answer.ms };
    } catch (e) {
      if (e instanceof HttpsRequestError) return { ok: false, path, refusal: refusalFromError("connect", e.cause, e.facts) };
      throw e;
    }
  }

  /** Both web app paths. */
  loadWebApp(): Promise<BrowserPage[]> {
    return Promise.all([this.get(ROUTES.webApp), this.get(ROUTES.legacyWebApp)]);
  }
}

/** A page is the web app when it is a 200 HTML answer. */
export function isWebAppPage(page: BrowserPage): boolean {
  return page.ok && page.status === 200 && (page.contentType ?? "").startsWith("text/html");
}
