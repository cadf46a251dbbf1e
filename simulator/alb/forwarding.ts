import { FORWARDED_HEADERS, MTLS_HEADER_PREFIX } from "../protocol/aws-headers";
import { newTraceId, selfTraceSegment } from "./aws-ids";

/**
 * The request headers a target receives: the client's, less hop-by-hop headers and any
 * client-supplied mTLS header (AWS documents nothing; removing them is the safe choice, and the
 * report says it is an assumption), plus X-Forwarded-For/-Proto/-Port, X-Amzn-Trace-Id and the
 * connection's mTLS headers.
 */

/** Headers that describe one hop and are not forwarded (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);
const SET_BY_ALB = new Set<string>([FORWARDED_HEADERS.proto, FORWARDED_HEADERS.port]);

export interface ForwardingContext {
  readonly clientIp: string;
  /** The listener's port, for X-Forwarded-Port. */
  readonly listenerPort: number;
  /** Lower-case names of renamed mTLS headers (also removed when a client sends them). */
  readonly mtlsHeaderNames: ReadonlySet<string>;
  /** The connection's mTLS headers, flat [name, value, ...]. */
  readonly mtlsHeaders: readonly string[];
  /** Keep Connection/Upgrade (WebSocket upgrade requests). */
  readonly upgrade?: boolean;
}

export interface ForwardedHeaders {
  /** Flat [name, value, ...], as http.request accepts them. */
  readonly headers: string[];
  /** The X-Amzn-Trace-Id sent to the target (also the access log's trace_id). */
  readonly traceId: string;
}

export function forwardedHeaders(rawHeaders: readonly string[], ctx: ForwardingContext, nowMs: number): ForwardedHeaders {
  const out: string[] = [];
  let xff: string | undefined;
  let trace: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    const lower = name.toLowerCase();
    if (lower.startsWith(MTLS_HEADER_PREFIX) || ctx.mtlsHeaderNames.has(lower) || SET_BY_ALB.has(lower)) continue;
    if (HOP_BY_HOP.has(lower) && !(ctx.upgrade && (lower === "connection" || lower === "upgrade"))) continue;
    if (lower === FORWARDED_HEADERS.for) {
      xff = xff === undefined ? rawHeaders[i + 1] : `${xff}, ${rawHeaders[i + 1]}`;
      continue;
    }
    if (lower === FORWARDED_HEADERS.traceId) {
      trace = rawHeaders[i + 1];
      continue;
    }
    out.push(name, rawHeaders[i + 1]);
  }
  // X-Forwarded-For in AWS's default "append" mode; the trace header gets a Self= segment when the client sent one.
  const traceId = trace && /Root=1-[0-9a-f]{8}-[0-9a-f]{24}/.test(trace) ? `${selfTraceSegment(nowMs)};${trace}` : newTraceId(nowMs);
  out.push(
    "X-Forwarded-For", xff === undefined ? ctx.clientIp : `${xff}, ${ctx.clientIp}`,
    "X-Forwarded-Proto", "https",
    "X-Forwarded-Port", String(ctx.listenerPort),
    "X-Amzn-Trace-Id", traceId,
  );
  for (let i = 0; i < ctx.mtlsHeaders.length; i++) out.push(ctx.mtlsHeaders[i]);
  return { headers: out, traceId };
}

/** Response headers passed back to the client: the target's, less hop-by-hop ones. */
export function responseHeaders(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[i].toLowerCase())) out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}
