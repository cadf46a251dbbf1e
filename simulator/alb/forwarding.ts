import { FORWARDED_HEADERS, MTLS_HEADER_PREFIX } from "../../core/aws-headers";
import type { XffHeaderProcessingMode } from "../../core/alb-defaults";
import type { ResponseHead } from "./http-head";
import type { RequestHead } from "./request-head";
import { forwardedTraceId } from "./trace-header";

/**
 * The heads that cross the load balancer, each built for one write (latin1: one char per byte). To
 * the target: the client's request head, less hop-by-hop headers and any client-supplied mTLS
 * header (AWS documents nothing; removing them is the safe choice, and the report says it is an
 * assumption), with the load balancer's attributes applied (AWS, ELB user guide, "HTTP headers and
 * Application Load Balancers" and "Application Load Balancer attributes"): X-Forwarded-For per
 * `xff_header_processing_mode` and `enable_xff_client_port`, Host per `preserve_host_header`,
 * invalid header fields dropped per `drop_invalid_header_fields`, plus X-Forwarded-Proto/-Port,
 * X-Amzn-Trace-Id (trace-header.ts) and the connection's mTLS headers. To the client: the target's
 * response head, less hop-by-hop headers.
 */

/**
 * Headers that describe one hop (RFC 9110 7.6.1). The body's framing headers are written by the
 * load balancer itself (one Content-Length, or Transfer-Encoding: chunked), from how it read the body.
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]);
const FRAMING = new Set(["content-length", "transfer-encoding"]);

/**
 * AWS, "Application Load Balancer attributes" > routing.http.drop_invalid_header_fields.enabled:
 * "valid HTTP header names conform to the regular expression [-A-Za-z0-9]+".
 */
const VALID_HEADER_NAME = /^[-A-Za-z0-9]+$/;

/** The load balancer attributes that shape a forwarded request (from the stack's aws_lb). */
export interface ForwardingAttributes {
  readonly dropInvalidHeaderFields: boolean;
  readonly xffHeaderProcessingMode: XffHeaderProcessingMode;
  readonly enableXffClientPort: boolean;
  readonly preserveHostHeader: boolean;
}

/** What forwarding needs from the listener and the TLS connection, computed once per connection. */
export interface ForwardingContext {
  readonly clientIp: string;
  readonly clientPort: number;
  /** The listener's port (Host and X-Forwarded-Port). */
  readonly listenerPort: number;
  readonly attributes: ForwardingAttributes;
  /** Lower-case names of renamed mTLS headers (also removed when a client sends them). */
  readonly mtlsHeaderNames: ReadonlySet<string>;
  /** `X-Forwarded-Proto` and `X-Forwarded-Port` lines of the listener. */
  readonly listenerLines: string;
  /** The connection's mTLS header lines and the head's final CRLF (`mtlsTail`). */
  readonly mtlsTail: Buffer;
}

/** `X-Forwarded-Proto: https` and `X-Forwarded-Port: <port>` lines. */
export function listenerLines(listenerPort: number): string {
  return `X-Forwarded-Proto: https\r\nX-Forwarded-Port: ${listenerPort}\r\n`;
}

const tailCache = new WeakMap<readonly string[], Buffer>();

/**
 * The end of every forwarded head of a connection: its flat [name, value, ...] mTLS headers and
 * the empty line, as bytes. Values are sent as UTF-8 (a DN may hold any character). Cached per
 * array: connections of an accepted chain share it, and a head only copies it.
 */
export function mtlsTail(headers: readonly string[]): Buffer {
  let tail = tailCache.get(headers);
  if (tail === undefined) {
    let s = "";
    for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
    tail = Buffer.from(`${s}\r\n`, "utf8");
    tailCache.set(headers, tail);
  }
  return tail;
}

export interface ForwardedHead {
  /** The request head for the target, CRLF CRLF included. */
  readonly bytes: Buffer;
  /** The X-Amzn-Trace-Id sent to the target (also the access log's trace_id). */
  readonly traceId: string;
}

export interface ForwardOptions {
  readonly nowMs: number;
  /** Sent as Host when the client sent none (HTTP/1.0). */
  readonly hostFallback: string;
  /** Keep Connection/Upgrade (WebSocket). @default false */
  readonly upgrade?: boolean;
  /** A rule's url-rewrite result: the request target sent instead. @default the client's */
  readonly target?: string;
  /** A rule's host-header-rewrite result: the Host sent instead. @default per preserve_host_header */
  readonly host?: string;
}

/** Addresses in X-Forwarded-For fields (comma-separated, every field). */
export function xffAddresses(values: readonly string[]): number {
  let n = 0;
  for (const v of values) for (const part of v.split(",")) if (part.trim() !== "") n++;
  return n;
}

/** The client as the load balancer appends it to X-Forwarded-For ("HTTP headers" > X-Forwarded-For > Append). */
function xffClient(c: ForwardingContext): string {
  if (!c.attributes.enableXffClientPort) return c.clientIp;
  return c.clientIp.includes(":") ? `[${c.clientIp}]:${c.clientPort}` : `${c.clientIp}:${c.clientPort}`;
}

const AUTHORITY = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/;
const PORT = /:\d*$/;

/**
 * The Host a target receives with host header preservation off. AWS, "Application Load Balancer
 * attributes" > Host header preservation: on a default port (80, 443) any port is removed; on any
 * other port the listener's port is appended unless the client gave one; an absolute request
 * target's host is used. Only the first Host field is passed on (assumption `alb-host-header`).
 */
function rewrittenHost(host: string | undefined, target: string, listenerPort: number): string | undefined {
  const fromTarget = AUTHORITY.exec(target)?.[1];
  let h = fromTarget !== undefined && fromTarget !== "" ? fromTarget.replace(/^[^@]*@/, "") : host;
  if (h === undefined) return undefined;
  const hasPort = h.startsWith("[") ? /\]:\d*$/.test(h) : PORT.test(h);
  if (listenerPort === 80 || listenerPort === 443) return hasPort ? h.replace(PORT, "") : h;
  if (!hasPort) h = `${h}:${listenerPort}`;
  return h;
}

/** The head a target receives for `req`. */
export function forwardedRequestHead(req: RequestHead, c: ForwardingContext, o: ForwardOptions): ForwardedHead {
  const a = c.attributes;
  // A space in the target (SpaceInUri, an Acceptable request) would split the request line: sent encoded (assumption alb-space-in-uri).
  const target = (o.target ?? req.target.trim()).replace(/ /g, "%20");
  let text = `${req.method} ${target} HTTP/1.1\r\n`;
  const xff: string[] = [];
  const trace: string[] = [];
  // null: the client's Host fields pass unchanged (preserve_host_header).
  const host = o.host ?? (a.preserveHostHeader ? null : (rewrittenHost(req.host, req.target, c.listenerPort) ?? o.hostFallback));
  const { raw, lower } = req;
  for (let i = 0; i < lower.length; i++) {
    const l = lower[i];
    const name = raw[2 * i];
    const value = raw[2 * i + 1];
    if (a.dropInvalidHeaderFields && !VALID_HEADER_NAME.test(name)) continue;
    if (l.startsWith(MTLS_HEADER_PREFIX) || l === FORWARDED_HEADERS.proto || l === FORWARDED_HEADERS.port || FRAMING.has(l)) continue;
    if (HOP_BY_HOP.has(l) && !(o.upgrade && (l === "connection" || l === "upgrade"))) continue;
    if (c.mtlsHeaderNames.size > 0 && c.mtlsHeaderNames.has(l)) continue;
    if (l === FORWARDED_HEADERS.for) {
      if (a.xffHeaderProcessingMode === "append") xff.push(value);
      else if (a.xffHeaderProcessingMode === "preserve") text += `${name}: ${value}\r\n`;
      continue;
    }
    if (l === FORWARDED_HEADERS.traceId) {
      trace.push(value);
      continue;
    }
    if (l === "host" && host !== null) continue;
    text += value === "" && name.charCodeAt(0) <= 32 ? `${name}:\r\n` : `${name}: ${value}\r\n`;
  }
  if (host !== null) text += `Host: ${host}\r\n`;
  else if (req.host === undefined) text += `Host: ${o.hostFallback}\r\n`;
  if (!o.upgrade) {
    if (req.chunked) text += "Transfer-Encoding: chunked\r\n";
    else if (req.contentLength >= 0) text += `Content-Length: ${req.contentLength}\r\n`;
  }
  if (a.xffHeaderProcessingMode === "append") text += `X-Forwarded-For: ${xff.length === 0 ? xffClient(c) : `${xff.join(", ")}, ${xffClient(c)}`}\r\n`;
  const traceId = forwardedTraceId(trace, o.nowMs, req.size);
  text += `${c.listenerLines}X-Amzn-Trace-Id: ${traceId}\r\n`;
  const tail = c.mtlsTail;
  const bytes = Buffer.allocUnsafe(text.length + tail.length);
  bytes.write(text, 0, "latin1");
  tail.copy(bytes, text.length);
  return { bytes, traceId };
}

export interface ClientHeadOptions {
  /** The connection closes after this response: `Connection: close`. */
  readonly close: boolean;
  /** The client is HTTP/1.0 and the connection stays open: `Connection: keep-alive`. */
  readonly keepAlive10: boolean;
  /** The body is re-framed as chunks: `Transfer-Encoding: chunked`. */
  readonly chunk: boolean;
}

/** The response head a client receives (interim 1xx heads too, with all options false). */
export function clientResponseHead(res: ResponseHead, o: ClientHeadOptions): string {
  let text = `HTTP/1.1 ${res.status} ${res.reason}\r\n`;
  const { raw, lower } = res;
  for (let i = 0; i < lower.length; i++) {
    if (!HOP_BY_HOP.has(lower[i])) text += `${raw[2 * i]}: ${raw[2 * i + 1]}\r\n`;
  }
  if (o.chunk) text += "Transfer-Encoding: chunked\r\n";
  if (o.close) text += "Connection: close\r\n";
  else if (o.keepAlive10) text += "Connection: keep-alive\r\n";
  return `${text}\r\n`;
}

/** A 101 Switching Protocols head, relayed with every header (Connection and Upgrade belong to it). */
export function switchingHead(res: ResponseHead): string {
  let text = `HTTP/1.1 ${res.status} ${res.reason}\r\n`;
  for (let i = 0; i < res.raw.length; i += 2) text += `${res.raw[i]}: ${res.raw[i + 1]}\r\n`;
  return `${text}\r\n`;
}
