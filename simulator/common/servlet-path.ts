/**
 * The path a Java servlet container (the UMS and the ICG run in one) routes a request target to,
 * so that the simulation serves what a real server would: `/device-connector/..;/umsapi/x` is
 * `/umsapi/x` to Tomcat. Modelled on Tomcat's CoyoteAdapter (postParseRequest: path parameters
 * removed, then percent-decoding, then normalize()), in its most permissive settings, because the
 * bench must never call a path unreachable that some container configuration would serve
 * (assumption `servlet-path-permissive`):
 * - `;` path parameters are removed from every segment (`..;x` is `..`, `/a;jsessionid=1/b` is `/a/b`);
 * - percent-escapes are decoded once, as UTF-8 (`%2e` is `.`, `%75` is `u`; `%252e` stays `%2e`);
 *   an encoded slash or backslash (`%2F`, `%5C`) is decoded too (Tomcat's ALLOW_ENCODED_SLASH, and
 *   UDecoder with ALLOW_BACKSLASH);
 * - a backslash is a slash (ALLOW_BACKSLASH);
 * - duplicate slashes are merged, `.` segments dropped and `..` segments resolved;
 * - a path that climbs above the root, holds NUL, or has a broken escape is refused (400, as Tomcat does).
 */

export type ServletPath = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The normalised path of a request target (`/a/b?q` → `/a/b`); `target` is as received on the request line. */
export function servletPath(target: string): ServletPath {
  let path = target;
  const q = path.indexOf("?");
  if (q >= 0) path = path.slice(0, q);
  // An absolute target (`https://host/path`) routes on its path.
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/.exec(path);
  if (abs) path = path.slice(abs[0].length) || "/";
  if (!path.startsWith("/") && !path.startsWith("\\")) return { ok: false, reason: "the request target is not an absolute path" };
  // Path parameters go before decoding, so that an encoded ';' (%3B) stays part of the segment.
  const withoutParameters = path.replace(/;[^/\\]*/g, "");
  const decoded = decodeSegment(withoutParameters);
  if (decoded === undefined) return { ok: false, reason: "the path holds a malformed percent-escape or invalid UTF-8" };
  if (decoded.includes("\0")) return { ok: false, reason: "the path holds NUL" };
  const out: string[] = [];
  for (const segment of decoded.replace(/\\/g, "/").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length === 0) return { ok: false, reason: "the path climbs above the root" };
      out.pop();
      continue;
    }
    out.push(segment);
  }
  const trailing = /[/\\]$/.test(decoded) || /(^|[/\\])\.\.?$/.test(decoded);
  return { ok: true, path: `/${out.join("/")}${trailing && out.length > 0 ? "/" : ""}` };
}
