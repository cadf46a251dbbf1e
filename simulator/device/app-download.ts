import { createHash } from "node:crypto";
import { APP_DIGEST_HEADER, appPath } from "../protocol/app-proxy";
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

export type AppDownloadOutcome =
  | { readonly ok: true; readonly bytes: number; readonly sha256: string; readonly ms: number }
  | { readonly ok: false; readonly refusal: DeviceRefusal };

export async function downloadApp(input: AppDownloadInput): Promise<AppDownloadOutcome> {
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
  const refuse = (error: string, reason: string): AppDownloadOutcome => ({ ok: false, refusal: { stage: "download", kind: "protocol", at: new Date().toISOString(), error, reason } });
  if (typeof announced !== "string") return refuse("digest-missing", `the update proxy sent no ${APP_DIGEST_HEADER} header; the app is not installed`);
  if (announced.toLowerCase() !== actual) {
    return refuse("digest-mismatch", `${input.app} ${input.version}: ${answer.body.length} bytes with SHA-256 ${actual}, but the proxy announced ${announced}; the app is not installed`);
  }
  return { ok: true, bytes: answer.body.length, sha256: actual, ms: answer.ms };
}
