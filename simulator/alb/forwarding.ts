import { FORWARDED_HEADERS, MTLS_HEADER_PREFIX } from "../../core/aws-headers";
import { traceIdFor } from "./aws-ids";
import type { RequestHead, ResponseHead } from "./http-head";

/**
 * The heads that cross the load balancer, each built for one write (latin1: one char per byte). To the target: the client's request head, less hop-by-hop headers and any
 * client-supplied mTLS header (AWS documents nothing; removing them is the safe choice, and the
 * report says it is an assumption), plus X-Forwarded-For/-Proto/-Port, X-Amzn-Trace-Id and the
 * connection's mTLS headers. To the client: the target's response head, less hop-by-hop headers.
 */

/**
 * Headers that describe one hop (RFC 9110 7.6.1). Transfer-Encoding is not among them here: bodies
 * are relayed with their chunked coding as it came, so the header stays with them.
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]);

/** What forwarding needs from the listener and the TLS connection, computed once per connection. */
export interface ForwardingContext {
  readonly clientIp: string;
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

/**
 * The head a target receives for `req`. `upgrade` keeps Connection/Upgrade (WebSocket);
 * `hostFallback` is sent as Host when the client sent none (HTTP/1.0).
 */
export function forwardedRequestHead(req: RequestHead, c: ForwardingContext, nowMs: number, hostFallback: string, upgrade = false): ForwardedHead {
  let text = `${req.method} ${req.target} HTTP/1.1\r\n`;
  let xff: string | undefined;
  let trace: string | undefined;
  const { raw, lower } = req;
  for (let i = 0; i < lower.length; i++) {
    const l = lower[i];
    const value = raw[2 * i + 1];
    if (l.startsWith(MTLS_HEADER_PREFIX) || l === FORWARDED_HEADERS.proto || l === FORWARDED_HEADERS.port) continue;
    if (HOP_BY_HOP.has(l) && !(upgrade && (l === "connection" || l === "upgrade"))) continue;
    if (c.mtlsHeaderNames.size > 0 && c.mtlsHeaderNames.has(l)) continue;
    if (l === FORWARDED_HEADERS.for) {
      xff = xff === undefined ? value : `${xff}, ${value}`;
      continue;
    }
    if (l === FORWARDED_HEADERS.traceId) {
      trace = value;
      continue;
    }
    text += `${raw[2 * i]}: ${value}\r\n`;
  }
  if (req.host === undefined) text += `Host: ${hostFallback}\r\n`;
  // X-Forwarded-For in AWS's default "append" mode; the trace header gets a Self= segment when the client sent one.
  const traceId = traceIdFor(trace, nowMs);
  text += `X-Forwarded-For: ${xff === undefined ? c.clientIp : `${xff}, ${c.clientIp}`}\r\n${c.listenerLines}X-Amzn-Trace-Id: ${traceId}\r\n`;
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
