import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Method + path dispatch. A path that matches no route, or a route with another method, gets an
 * answer that says what exists instead (the explaining-emulator convention).
 */

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The path below a prefix route, e.g. `app/1.0` for `/ums-appproxy/v1/apps/app/1.0`. */
  readonly rest: string;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

interface Route {
  readonly method: string;
  /** Exact path, or a prefix when it ends with `/*`. */
  readonly pattern: string;
  readonly handler: RouteHandler;
}

export type RouteMatch =
  | { readonly kind: "found"; readonly handler: RouteHandler; readonly rest: string }
  | { readonly kind: "wrong-method"; readonly allowed: readonly string[] }
  | { readonly kind: "not-found" };

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, pattern, handler });
    return this;
  }

  match(method: string, path: string): RouteMatch {
    const candidates = this.routes
      .map((r) => ({ r, rest: matchPath(r.pattern, path) }))
      .filter((c): c is { r: Route; rest: string } => c.rest !== undefined);
    const found = candidates.find((c) => c.r.method === method || (method === "HEAD" && c.r.method === "GET"));
    if (found) return { kind: "found", handler: found.r.handler, rest: found.rest };
    if (candidates.length > 0) return { kind: "wrong-method", allowed: [...new Set(candidates.map((c) => c.r.method))] };
    return { kind: "not-found" };
  }

  /** The route list, for 404 explanations. */
  get patterns(): string[] {
    return [...new Set(this.routes.map((r) => `${r.method} ${r.pattern}`))];
  }
}

function matchPath(pattern: string, path: string): string | undefined {
  if (pattern.endsWith("/*")) {
    const base = pattern.slice(0, -2);
    if (path === base || path === `${base}/`) return "";
    return path.startsWith(`${base}/`) ? path.slice(base.length + 1) : undefined;
  }
  return path === pattern ? "" : undefined;
}
