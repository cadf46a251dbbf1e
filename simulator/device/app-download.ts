import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { APP_DIGEST_HEADER, UPDATE_PROXY_UNAVAILABLE, appPath } from "../protocol/app-proxy";
import { httpsRequest, HttpsRequestError, TlsTrust, ClientIdentityPem } from "./tls-trust";
import { DeviceRefusal, refusalFromError, refusalFromHttp } from "./refusal";

/**
 * An app download from the UMS acting as update proxy, with the device's certificate, checked
 * against the digest the proxy announced: a truncated or altered body is refused, not installed.
 */

export interface AppDownloadInput {
  /** Base URL of the cluster address. */
  readonly clusterUrl: string;
  readonly trust: TlsTrust;
  /** undefined: the request carries no client certificate (expected to be refused). */
  readonly identity?: ClientIdentityPem;
  readonly app: string;
  readonly version: string;
  readonly timeoutMs?: number;
}

/** A download from the update proxy at the cluster address. */
export type ProxyDownloadOutcome =
  | { readonly ok: true; readonly bytes: number; readonly sha256: string; readonly ms: number }
  | { readonly ok: false; readonly refusal: DeviceRefusal };

export type AppDownloadOutcome = ProxyDownloadOutcome | AppPortalOutcome;

export async function downloadApp(input: AppDownloadInput): Promise<ProxyDownloadOutcome> {
  let answer;
  try {
    answer = await httpsRequest(new URL(appPath(input.app, input.version), input.clusterUrl).toString(), {
      trust: input.trust,
      identity: input.identity,
      timeoutMs: input.timeoutMs ?? 60_000,
    });
  } catch (e) {
    if (e instanceof HttpsRequestError) return { ok: false, refusal: refusalFromError("download", e.cause, e.facts) };
    throw e;
  }
  if (answer.status !== 200) return { ok: false, refusal: refusalFromHttp("download", answer.status, answer.body.toString("utf8")) };
  const announced = answer.headers[APP_DIGEST_HEADER];
  const actual = createHash("sha256").update(answer.body).digest("hex");
  const refuse = (error: string, reason: string): ProxyDownloadOutcome => ({ ok: false, refusal: { stage: "download", kind: "protocol", at: new Date().toISOString(), error, reason } });
  if (typeof announced !== "string") return refuse("digest-missing", `the update proxy sent no ${APP_DIGEST_HEADER} header; the app is not installed`);
  if (announced.toLowerCase() !== actual) {
    return refuse("digest-mismatch", `${input.app} ${input.version}: ${answer.body.length} bytes with SHA-256 ${actual}, but the proxy announced ${announced}; the app is not installed`);
  }
  return { ok: true, bytes: answer.body.length, sha256: actual, ms: answer.ms };
}

// ---- App Portal fallback (icg topology) -------------------------------------------------------
// Through an ICG the UMS update proxy is not available (IGEL's connection-options document): the
// device then downloads from the IGEL App Portal on the internet. The lab has no internet, so the
// App Portal is modelled as an address nothing listens on, and the outcome says so.

/** Where the App Portal is "reached" unless a test gives one: a loopback port nothing listens on. */
export const DEFAULT_APP_PORTAL_URL = "https://127.0.0.1:1";

/** The update proxy said it is not available here, and the device went to the App Portal. */
export type AppPortalOutcome =
  | {
      readonly source: "app-portal";
      readonly ok: true;
      readonly bytes: number;
      readonly sha256: string;
      readonly ms: number;
      /** Why the update proxy was not used. */
      readonly proxyRefusal: DeviceRefusal;
    }
  | {
      readonly source: "app-portal";
      readonly ok: false;
      /** One sentence: the update proxy is unavailable and the App Portal could not be reached. */
      readonly reason: string;
      /** How the App Portal attempt failed. */
      readonly refusal: DeviceRefusal;
      /** Why the update proxy was not used. */
      readonly proxyRefusal: DeviceRefusal;
    };

/** The update proxy first; when it answers that it is not available here, the App Portal. */
export async function downloadAppWithFallback(input: AppDownloadInput & { readonly appPortalUrl?: string }): Promise<AppDownloadOutcome> {
  const proxy = await downloadApp(input);
  if (proxy.ok || proxy.refusal.error !== UPDATE_PROXY_UNAVAILABLE) return proxy;
  const portalUrl = input.appPortalUrl ?? DEFAULT_APP_PORTAL_URL;
  // The App Portal is a public service: no device certificate, and its own server name (SNI
  // cannot carry an IP address, so the loopback default gets a name of its own).
  const host = new URL(portalUrl).hostname;
  const serverName = isIP(host.replace(/^\[|\]$/g, "")) ? "app-portal.lab.invalid" : host;
  const portal = await downloadApp({ ...input, clusterUrl: portalUrl, identity: undefined, trust: { caPem: input.trust.caPem, serverName } });
  if (portal.ok) return { source: "app-portal", ...portal, proxyRefusal: proxy.refusal };
  const how = portal.refusal.kind === "http" ? `refused it (HTTP ${portal.refusal.status})` : `is unreachable (${portal.refusal.error ?? portal.refusal.kind})`;
  return {
    source: "app-portal",
    ok: false,
    reason: `the update proxy is not available here (${proxy.refusal.reason}${proxy.refusal.by ? `, said the ${proxy.refusal.by}` : ""}); the App Portal at ${portalUrl} ${how}: ${portal.refusal.reason}`,
    refusal: portal.refusal,
    proxyRefusal: proxy.refusal,
  };
}
