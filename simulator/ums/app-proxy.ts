import { createCipheriv, createHash } from "node:crypto";
import { APP_DIGEST_HEADER, APP_SEGMENT } from "../protocol/app-proxy";
import { ROUTES } from "../protocol/routes";
import type { StructuredLogger } from "../common/structured-log";
import type { IdentityResolver } from "./identity";
import { refuse } from "./refusals";
import type { Router } from "./router";

/**
 * The UMS as update proxy (`/ums-appproxy/v1/apps/<app>/<version>`): serves an app's bytes to an
 * identified device with their SHA-256 in a header. The bytes are a deterministic stream per app
 * and version (AES-CTR over zeros), so every run and every component computes the same digest.
 */

export interface AppProxyDeps {
  readonly log: StructuredLogger;
  readonly identity: IdentityResolver;
  /** Size of every app. */
  readonly appSizeBytes: number;
}

export interface AppPackage {
  readonly bytes: Buffer;
  readonly sha256: string;
}

/** The bytes the update proxy serves for an app version. */
export function appPackage(app: string, version: string, size: number): AppPackage {
  const key = createHash("sha256").update(`${app}@${version}`).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const bytes = Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

export function registerAppProxy(router: Router, deps: AppProxyDeps): void {
  const cache = new Map<string, AppPackage>();
  router.add("GET", `${ROUTES.appProxy}/*`, async (ctx) => {
    const identity = await deps.identity.resolve(ctx.req);
    if (!identity.ok) return refuse(deps.log, ctx.req, ctx.res, { status: identity.status, error: identity.error, reason: identity.reason, unitId: identity.claimedUnitId });
    const parts = ctx.rest.split("/").map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return "";
      }
    });
    if (parts.length !== 2 || !parts.every((p) => APP_SEGMENT.test(p))) {
      return refuse(deps.log, ctx.req, ctx.res, {
        status: 404,
        error: "unknown-app",
        reason: `expected ${ROUTES.appProxy}/<app>/<version> (letters, digits, '.', '_', '-'), got '${ctx.url.pathname.slice(0, 120)}'`,
        unitId: identity.unitId,
      });
    }
    const [app, version] = parts;
    const id = `${app}@${version}`;
    let pkg = cache.get(id);
    if (!pkg) {
      pkg = appPackage(app, version, deps.appSizeBytes);
      if (cache.size > 64) cache.clear();
      cache.set(id, pkg);
    }
    deps.log.info("app-served", { unitId: identity.unitId, app, version, bytes: pkg.bytes.length });
    ctx.res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": pkg.bytes.length,
      [APP_DIGEST_HEADER]: pkg.sha256,
      etag: `"${pkg.sha256.slice(0, 32)}"`,
    });
    ctx.res.end(ctx.req.method === "HEAD" ? undefined : pkg.bytes);
  });
}
