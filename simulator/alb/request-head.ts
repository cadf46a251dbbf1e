import { HeadError, HeadFields, HeadState, MAX_HEAD_BYTES, readCommonField, skipEmptyLines, trimOws } from "./http-head";

/**
 * Client request heads as the load balancer reads them: leniently, because an ALB classifies a
 * request that is not RFC-compliant (desync-classifier.ts) and acts by its desync mitigation mode
 * instead of refusing it outright. Recorded as received: header names that are not tokens,
 * control characters in values, a version like HTTP/1.2, a space in the target. What decides the
 * body's length is worked out here once (RFC 9112 6.3), with what makes it unknowable.
 *
 * Refused here (HeadError), whatever the mode: heads the load balancer cannot read at all. AWS
 * documents the size limits ("Troubleshoot your Application Load Balancers" > HTTP 400: "16 K per
 * request line, 16 K per single header, or 64 K for the entire request header") and the HTTP/2
 * request on an HTTP/1 connection (HTTP 505); the rest is assumption `alb-unreadable-heads`
 * (bare LF line ends, HTTP/0.9, a header line without a colon, no request target).
 */

/** AWS: 16 K per request line and per single header (the whole head: MAX_HEAD_BYTES). */
export const MAX_LINE_BYTES = 16 * 1024;

export interface RequestHead extends HeadFields {
  readonly method: string;
  /** The request-target as sent (path and query, usually); spaces around it kept (the classifier's SpaceInUri). */
  readonly target: string;
  /** The version as written, e.g. `HTTP/1.1`, ` HTTP/1.1` or `HTTP/1.2` (the classifier reads it). */
  readonly version: string;
  /** HTTP/1.minor as the load balancer treats it (HTTP/1.2 and up as 1.1). */
  readonly minor: 0 | 1;
  /** Bytes of the head, CRLF CRLF included. */
  readonly size: number;
  /** The connection may carry another request after this one. */
  readonly keepAlive: boolean;
  /** A protocol upgrade (WebSocket): Upgrade header and `Connection: upgrade`. */
  readonly upgrade: boolean;
  /** The body's length cannot be known (bad or conflicting Content-Length, chunked twice): never relayed. */
  readonly framingError?: string;
  /** A transfer coding other than chunked and identity (AWS: 501 Not Implemented). */
  readonly unsupportedCoding?: string;
  /** Number of header lines that continued the previous one (obs-fold). */
  readonly foldedLines: number;
}

const SP = 32;
const CR = 13;
const LF = 10;

/**
 * Watches a request head as its bytes arrive, for a problem visible before it is complete, so that
 * the client is answered at once instead of waiting for the idle timeout: a line ended by LF alone,
 * an HTTP/0.9 request line (no version), a request line or header line over AWS's 16 K. Scans each
 * byte once however the head is split (a client sending one byte at a time costs linear time).
 */
export class RequestHeadScanner {
  private pos = 0;
  private lineStart = -1;
  private first = true;
  /** The head's end was seen: nothing after it is this head's. */
  private complete = false;

  /** Starts over for the next head at the start of the buffer. */
  reset(): void {
    this.pos = 0;
    this.lineStart = -1;
    this.first = true;
    this.complete = false;
  }

  /** Scans `buf` (the head so far, from its first byte; it only grows) up to its end or the head's end. */
  scan(buf: Buffer): HeadError | undefined {
    if (this.complete) return undefined;
    if (this.lineStart < 0) {
      // Empty lines before a request line are ignored (RFC 9112 2.2).
      let p = 0;
      while (p + 1 < buf.length && buf[p] === CR && buf[p + 1] === LF) p += 2;
      if (p + 1 >= buf.length && buf[p] === CR) return undefined;
      this.pos = this.lineStart = p;
    }
    const end = Math.min(buf.length, MAX_HEAD_BYTES + 4);
    for (let i = this.pos; i < end; i++) {
      if (buf[i] !== LF) continue;
      if (i === 0 || buf[i - 1] !== CR) return new HeadError("a line of the request head ends with LF alone (not CR LF)");
      if (i === this.lineStart + 1) {
        this.complete = true; // the empty line: the head is complete
        return undefined;
      }
      if (i - 1 - this.lineStart > MAX_LINE_BYTES) return this.tooLong();
      if (this.first) {
        const line = buf.toString("latin1", this.lineStart, i - 1);
        if (/^[^ ]+ [^ ]+$/.test(line)) return new HeadError(`an HTTP/0.9 request line ('${line.slice(0, 60)}', no version)`);
        this.first = false;
      }
      this.lineStart = i + 1;
    }
    this.pos = end;
    return end - this.lineStart > MAX_LINE_BYTES + 1 ? this.tooLong() : undefined;
  }

  private tooLong(): HeadError {
    return new HeadError(`a ${this.first ? "request line" : "header line"} longer than ${MAX_LINE_BYTES} bytes`);
  }
}

/** Transfer codings the classifier knows (http_desync_guardian); AWS supports chunked and identity only. */
export const KNOWN_CODINGS = ["chunked", "compress", "deflate", "gzip", "identity"] as const;

/** A transfer coding's name, without parameters or whitespace. */
export function codingName(item: string): string {
  const semi = item.indexOf(";");
  return trimOws(trimOws(semi < 0 ? item : item.slice(0, semi))).toLowerCase();
}

/** A Content-Length value as the classifier reads it: digits only, whitespace around allowed. */
export function contentLengthValue(value: string): number | undefined {
  const v = trimOws(value);
  if (!/^[0-9]*$/.test(v) || v.length > 15) return undefined;
  return v === "" ? 0 : Number(v);
}

class Request extends HeadState implements RequestHead {
  upgrade = false;
  framingError: string | undefined = undefined;
  unsupportedCoding: string | undefined = undefined;
  foldedLines = 0;
  codings: string[] = [];

  constructor(
    readonly size: number,
    readonly method: string,
    readonly target: string,
    readonly version: string,
    readonly minor: 0 | 1,
  ) {
    super();
  }

  field(name: string, value: string): void {
    const l = name.toLowerCase();
    this.raw.push(name, value);
    this.lower.push(l);
    switch (l) {
      case "content-length": {
        const n = contentLengthValue(value);
        if (n === undefined) this.framingError ??= `Content-Length '${value.slice(0, 40)}' is not a number of bytes`;
        else if (this.contentLength >= 0 && n !== this.contentLength) this.framingError ??= `conflicting Content-Length values (${this.contentLength} and ${n})`;
        else this.contentLength = n;
        break;
      }
      case "transfer-encoding":
        this.transferEncoding = true;
        for (const item of value.split(",")) {
          const c = codingName(item);
          if (c === "chunked" && this.codings[this.codings.length - 1] === "chunked") this.framingError ??= `Transfer-Encoding '${value.slice(0, 40)}': chunked twice`;
          this.codings.push(c);
        }
        break;
      default:
        readCommonField(this, l, value);
    }
  }

  /** Framing once every field is read: Transfer-Encoding overrides Content-Length (RFC 9112 6.3). */
  finish(): void {
    if (this.transferEncoding) {
      // AWS ("Troubleshoot" > HTTP 501): the supported values are chunked and identity.
      const codings = this.codings.filter((c) => c !== "identity");
      const other = codings.find((c) => c !== "chunked");
      if (other !== undefined) this.unsupportedCoding = other || "(empty)";
      this.chunked = codings.length > 0 && codings[codings.length - 1] === "chunked";
    }
    this.keepAlive = this.minor === 1 ? !this.close : this.keepAliveToken && !this.close;
    this.upgrade = this.upgradeHeader && this.upgradeToken;
  }
}

/** HTTP/1.x as the load balancer serves it: HTTP/1.0 and 1.1, and higher 1.x minor versions as 1.1. */
function minorOf(version: string): 0 | 1 | "http2" | undefined {
  const v = trimOws(version);
  if (/^HTTP\/1\.[0-9]$/.test(v)) return v === "HTTP/1.0" ? 0 : 1;
  if (/^HTTP\/[2-9](\.[0-9])?$/.test(v)) return "http2";
  return undefined;
}

/**
 * Parses a request head: `s` holds it whole, from its first byte to the CRLF CRLF included. A line
 * that starts with whitespace continues the previous field (obs-fold); AWS ("Multi-Line headers
 * are not supported") passes it on as a field of its own with a colon appended, so it is recorded
 * as one: its text up to a colon as the name, the rest as the value.
 */
export function parseRequestHead(s: string): RequestHead | HeadError {
  const bareLf = s.search(/(?<!\r)\n/);
  if (bareLf >= 0) return new HeadError("a line of the request head ends with LF alone (not CR LF)");
  const p = skipEmptyLines(s);
  const e = s.indexOf("\r\n", p);
  const line = s.slice(p, e);
  if (line.length > MAX_LINE_BYTES) return new HeadError(`a request line longer than ${MAX_LINE_BYTES} bytes`);
  const sp1 = line.indexOf(" ");
  const sp2 = line.lastIndexOf(" ");
  if (sp1 <= 0 || sp2 === sp1) return new HeadError(`malformed request line '${line.slice(0, 80)}'${sp1 > 0 ? " (HTTP/0.9: no version)" : ""}`);
  const method = line.slice(0, sp1);
  // Extra spaces around the target are the classifier's business (SpaceInUri): the target is all that lies between.
  const target = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (target.trim() === "") return new HeadError(`no request target in '${line.slice(0, 80)}'`);
  const minor = minorOf(version);
  if (minor === "http2") return new HeadError(`an ${trimOws(version)} request on an HTTP/1 connection`, 505);
  // A malformed version (BadVersion) is classified, and refused in every mode: nothing says how to relay it.
  const h = new Request(s.length, method, target, version, minor ?? 1);
  if (minor === undefined) h.framingError = `unknown protocol version '${version.slice(0, 20)}'`;
  let q = e + 2;
  for (;;) {
    const end = s.indexOf("\r\n", q);
    if (end === q || end < 0) break;
    const text = s.slice(q, end);
    if (text.length > MAX_LINE_BYTES) return new HeadError(`a header line longer than ${MAX_LINE_BYTES} bytes`);
    const folded = text.charCodeAt(0) === SP || text.charCodeAt(0) === 9;
    const colon = text.indexOf(":");
    if (colon < 0 && !folded) return new HeadError(`header line without a colon: '${text.slice(0, 60)}'`);
    if (folded) h.foldedLines++;
    if (colon < 0) h.field(text, "");
    else h.field(text.slice(0, colon), trimOws(text.slice(colon + 1)));
    q = end + 2;
  }
  h.finish();
  return h;
}
