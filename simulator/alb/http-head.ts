/**
 * HTTP/1.x message heads, parsed just enough for a proxy that streams bytes: the start line, the
 * header fields as received, and what decides message boundaries and connection reuse
 * (Content-Length, Transfer-Encoding, Connection, Upgrade). RFC 9112. Target responses are read
 * strictly here (a malformed response is a 502); client requests are read leniently by
 * request-head.ts, because the load balancer classifies them (desync-classifier.ts) rather than
 * refusing everything that is not RFC-compliant.
 *
 * Heads are handled as latin1 strings: one char per byte, so any header byte round-trips unchanged.
 */

/** Largest head accepted (AWS ALB: 64 KB of request line and headers). */
export const MAX_HEAD_BYTES = 64 * 1024;

const HEAD_END = Buffer.from("\r\n\r\n");

/** Index just past the CRLF CRLF ending the head that starts at `buf[0]`, or -1 if it is not complete. */
export function headEnd(buf: Buffer): number {
  // A head may start with empty lines (RFC 9112 2.2): they end no head.
  let from = 0;
  while (buf.length >= from + 2 && buf[from] === 13 && buf[from + 1] === 10) from += 2;
  const i = buf.indexOf(HEAD_END, from);
  return i < 0 ? -1 : i + 4;
}

/** A head that cannot be relayed; `reason` says why in words, `status` is the load balancer's answer. */
export class HeadError {
  constructor(
    readonly reason: string,
    readonly status: 400 | 505 = 400,
  ) {}
}

export interface HeadFields {
  /** Header fields as received, flat: [name, value, name, value, ...] (values without surrounding whitespace). */
  readonly raw: string[];
  /** Lower-case name of each field (one per field, in order). */
  readonly lower: string[];
  /** Content-Length, or -1 when absent. */
  readonly contentLength: number;
  /** Transfer-Encoding was present. */
  readonly transferEncoding: boolean;
  /** The last transfer coding is chunked. */
  readonly chunked: boolean;
  /** Connection tokens. */
  readonly close: boolean;
  readonly keepAliveToken: boolean;
  readonly upgradeToken: boolean;
  /** An Upgrade header field is present. */
  readonly upgradeHeader: boolean;
  readonly host?: string;
  readonly userAgent?: string;
  /** `Expect: 100-continue`: the client may wait for an interim answer before sending the body. */
  readonly expectContinue: boolean;
}

export interface ResponseHead extends HeadFields {
  readonly status: number;
  readonly reason: string;
  readonly minor: 0 | 1;
  readonly size: number;
  /** The target keeps the connection open after this response. */
  readonly keepAlive: boolean;
}

// tchar (RFC 9110 5.6.2)
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Control characters other than HTAB, and CR or LF that are not part of a CRLF.
const BAD_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;
const DIGITS = /^[0-9]{1,15}$/;
const OWS = /^[ \t]+|[ \t]+$/g;

export function trimOws(s: string): string {
  const a = s.charCodeAt(0);
  const z = s.charCodeAt(s.length - 1);
  return a === 32 || a === 9 || z === 32 || z === 9 ? s.replace(OWS, "") : s;
}

/** Content-Length values (repeated fields or a list) must all be the same number (RFC 9110 8.6). */
function contentLengthOf(current: number, value: string): number | HeadError {
  for (const part of value.includes(",") ? value.split(",").map(trimOws) : [value]) {
    if (!DIGITS.test(part)) return new HeadError(`Content-Length '${value}' is not a number of bytes`);
    const n = Number(part);
    if (current >= 0 && n !== current) return new HeadError(`conflicting Content-Length values (${current} and ${n})`);
    current = n;
  }
  return current;
}

/** The fields of a head that requests and responses read alike, as they are filled in. */
export interface CommonFields {
  close: boolean;
  keepAliveToken: boolean;
  upgradeToken: boolean;
  upgradeHeader: boolean;
  host: string | undefined;
  userAgent: string | undefined;
  expectContinue: boolean;
}

/** Reads a header field (lower-case name) that means the same in a request and a response: connection reuse, upgrades, Host, User-Agent, Expect. */
export function readCommonField(h: CommonFields, lowerName: string, value: string): void {
  switch (lowerName) {
    case "connection":
      for (const token of value.split(",")) {
        const t = trimOws(token).toLowerCase();
        if (t === "close") h.close = true;
        else if (t === "keep-alive") h.keepAliveToken = true;
        else if (t === "upgrade") h.upgradeToken = true;
      }
      break;
    case "upgrade":
      h.upgradeHeader = true;
      break;
    case "host":
      h.host ??= value;
      break;
    case "user-agent":
      h.userAgent ??= value;
      break;
    case "expect":
      if (value.toLowerCase() === "100-continue") h.expectContinue = true;
      break;
  }
}

/** What every head is filled with as its fields are read (requests and responses alike). */
export class HeadState implements CommonFields {
  raw: string[] = [];
  lower: string[] = [];
  contentLength = -1;
  transferEncoding = false;
  chunked = false;
  close = false;
  keepAliveToken = false;
  upgradeToken = false;
  upgradeHeader = false;
  host: string | undefined = undefined;
  userAgent: string | undefined = undefined;
  expectContinue = false;
  keepAlive = false;
}

/** A response head, filled in place: one object shape for every head (no copies). */
class Head extends HeadState implements ResponseHead {
  status = 0;
  reason = "";

  constructor(
    readonly size: number,
    readonly minor: 0 | 1,
  ) {
    super();
  }
}

/** Parses the header fields from `p` (the start of the first field line) to the empty line ending `s`, into `h`. */
function parseFields(s: string, p: number, h: Head): HeadError | undefined {
  for (;;) {
    const e = s.indexOf("\r\n", p);
    if (e === p || e < 0) break;
    const colon = s.indexOf(":", p);
    if (colon < 0 || colon > e) return new HeadError(`header line without a colon: '${s.slice(p, Math.min(e, p + 60))}'`);
    const name = s.slice(p, colon);
    // Rejects obs-fold (a line starting with whitespace) and whitespace before the colon (RFC 9112 5.1).
    if (!TOKEN.test(name)) return new HeadError(`invalid header name '${name.slice(0, 60)}'`);
    const value = trimOws(s.slice(colon + 1, e));
    const l = name.toLowerCase();
    h.raw.push(name, value);
    h.lower.push(l);
    p = e + 2;
    switch (l) {
      case "content-length": {
        const n = contentLengthOf(h.contentLength, value);
        if (n instanceof HeadError) return n;
        h.contentLength = n;
        break;
      }
      case "transfer-encoding":
        // The codings accumulate over repeated fields; chunked must be the last and only once.
        for (const coding of value.split(",")) {
          const c = trimOws(coding).toLowerCase();
          if (c === "") continue;
          if (h.chunked) return new HeadError(`Transfer-Encoding '${value}': chunked must be the final coding`);
          h.chunked = c === "chunked";
          h.transferEncoding = true;
        }
        break;
      default:
        readCommonField(h, l, value);
    }
  }
  if (h.transferEncoding && h.contentLength >= 0) return new HeadError("both Transfer-Encoding and Content-Length");
  h.keepAlive = h.minor === 1 ? !h.close : h.keepAliveToken && !h.close;
  return undefined;
}

export function skipEmptyLines(s: string): number {
  let p = 0;
  while (s.charCodeAt(p) === 13 && s.charCodeAt(p + 1) === 10) p += 2;
  return p;
}

export function version(v: string): 0 | 1 | undefined {
  return v === "HTTP/1.1" ? 1 : v === "HTTP/1.0" ? 0 : undefined;
}

/** Parses a response head: `s` holds it whole, from its first byte to the CRLF CRLF included. */
export function parseResponseHead(s: string): ResponseHead | HeadError {
  if (BAD_CHARS.test(s)) return new HeadError("control character or bare CR/LF in the response head");
  const p = skipEmptyLines(s);
  const e = s.indexOf("\r\n", p);
  const minor = version(s.slice(p, p + 8));
  const code = s.slice(p + 9, p + 12);
  const after = s.charCodeAt(p + 12);
  if (minor === undefined || s.charCodeAt(p + 8) !== 32 || !/^[1-9][0-9][0-9]$/.test(code) || (p + 12 !== e && after !== 32)) {
    return new HeadError(`malformed status line '${s.slice(p, Math.min(e, p + 80))}'`);
  }
  const h = new Head(s.length, minor);
  h.status = Number(code);
  h.reason = p + 12 === e ? "" : s.slice(p + 13, e);
  const error = parseFields(s, e + 2, h);
  return error ?? h;
}

/** Values of a header field (by lower-case name), in order. */
export function headerValues(h: HeadFields, lowerName: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < h.lower.length; i++) if (h.lower[i] === lowerName) out.push(h.raw[2 * i + 1]);
  return out;
}
