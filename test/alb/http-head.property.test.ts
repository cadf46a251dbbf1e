import fc from "fast-check";
import { headEnd, HeadError, MAX_HEAD_BYTES, parseResponseHead, ResponseHead } from "../../simulator/alb/http-head";
import { parseRequestHead, RequestHead, RequestHeadScanner } from "../../simulator/alb/request-head";

/**
 * Properties of the emulator's HTTP head parsers (request heads from clients, response heads from
 * targets): valid heads round-trip field by field whatever the optional whitespace and leading
 * empty lines; framing follows RFC 9112 6.3, and what makes a request body's end unknowable is
 * named (framingError) for the load balancer to refuse; nothing makes them throw. Requests that are
 * not RFC-compliant but readable are read (the desync classifier judges them: desync.test.ts).
 */

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = (max = 20) => fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: max });
/** Header value characters: visible ASCII, obs-text, inner spaces and tabs. */
const valueChar = fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constantFrom(0x20, 0x09)).map((c) => String.fromCharCode(c));
const value = fc.string({ unit: valueChar, maxLength: 60 }).map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ""));
const ows = fc.constantFrom("", " ", "  ", "\t", " \t");
/** Names the parser gives a meaning to; random headers avoid them, framing is generated apart. */
const SPECIAL = new Set(["content-length", "transfer-encoding", "connection", "upgrade", "host", "user-agent", "expect"]);
const field = fc.tuple(token().filter((n) => !SPECIAL.has(n.toLowerCase())), value, ows, ows);
const target = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }).map((t) => `/${t}`);
const framing = fc.oneof(
  fc.constant({ lines: [] as string[], contentLength: -1, chunked: false }),
  fc.nat({ max: 1_000_000 }).map((n) => ({ lines: [`Content-Length: ${n}`], contentLength: n, chunked: false })),
  fc.constantFrom("chunked", "gzip, chunked", "Chunked").map((te) => ({ lines: [`Transfer-Encoding: ${te}`], contentLength: -1, chunked: true })),
);

function serialize(startLine: string, fields: ReadonlyArray<readonly [string, string, string, string]>, extra: readonly string[], empties: number): string {
  return `${"\r\n".repeat(empties)}${startLine}\r\n${fields.map(([n, v, a, b]) => `${n}:${a}${v}${b}\r\n`).join("")}${extra.map((l) => `${l}\r\n`).join("")}\r\n`;
}

function parsedRequest(s: string): RequestHead {
  const h = parseRequestHead(s);
  if (h instanceof HeadError) throw new Error(`refused: ${h.reason}\n${JSON.stringify(s)}`);
  return h;
}

function parsedResponse(s: string): ResponseHead {
  const h = parseResponseHead(s);
  if (h instanceof HeadError) throw new Error(`refused: ${h.reason}\n${JSON.stringify(s)}`);
  return h;
}

test("valid request heads round-trip: method, target, version, every field in order, framing, size", () => {
  fc.assert(
    fc.property(token(10), target, fc.constantFrom(0, 1), fc.array(field, { maxLength: 12 }), framing, fc.nat({ max: 2 }), (method, t, minor, fields, f, empties) => {
      const s = serialize(`${method} ${t} HTTP/1.${minor}`, fields, f.lines, empties);
      const h = parsedRequest(s);
      expect([h.method, h.target, h.minor, h.size]).toEqual([method, t, minor, s.length]);
      const expected = fields.flatMap(([n, v]) => [n, v]);
      expect(h.raw.slice(0, expected.length)).toEqual(expected);
      expect(h.lower.slice(0, fields.length)).toEqual(fields.map(([n]) => n.toLowerCase()));
      expect([h.contentLength, h.chunked]).toEqual([f.contentLength, f.chunked]);
      expect(h.keepAlive).toBe(minor === 1);
      expect(h.upgrade).toBe(false);
      expect(headEnd(Buffer.from(s, "latin1"))).toBe(s.length);
    }),
    { numRuns: 1000 },
  );
});

test("valid response heads round-trip: status, reason (possibly empty), fields", () => {
  const reason = fc.string({ unit: valueChar, maxLength: 30 }).map((r) => r.replace(/^[ \t]+/, ""));
  fc.assert(
    fc.property(fc.integer({ min: 100, max: 599 }), fc.option(reason), fc.constantFrom(0, 1), fc.array(field, { maxLength: 12 }), framing, (status, r, minor, fields, f) => {
      const s = serialize(`HTTP/1.${minor} ${status}${r === null ? "" : ` ${r}`}`, fields, f.lines, 0);
      const h = parsedResponse(s);
      expect([h.status, h.reason, h.minor, h.size]).toEqual([status, r ?? "", minor, s.length]);
      expect(h.raw).toEqual(fields.flatMap(([n, v]) => [n, v]).concat(f.lines.flatMap((l) => l.split(": "))));
      expect([h.contentLength, h.chunked]).toEqual([f.contentLength, f.chunked]);
    }),
    { numRuns: 1000 },
  );
});

test("no input makes the parsers throw; the end of a head is where its CRLF CRLF is", () => {
  const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 300 });
  const crlfy = fc.array(fc.oneof(latin1, fc.constantFrom("\r\n", ":", " ", "HTTP/1.1", "GET / HTTP/1.1\r\n", "Content-Length: 1\r\n")), { maxLength: 12 }).map((p) => p.join(""));
  fc.assert(
    fc.property(fc.oneof(latin1, crlfy), (body) => {
      const s = `${body}\r\n\r\n`;
      const req = parseRequestHead(s);
      const res = parseResponseHead(s);
      expect(req instanceof HeadError || req.size === s.length).toBe(true);
      expect(res instanceof HeadError || res.size === s.length).toBe(true);
      // Only empty lines are no head at all (they may precede one, RFC 9112 2.2).
      const end = headEnd(Buffer.from(s, "latin1"));
      if (/^(\r\n)+$/.test(s)) expect(end).toBe(-1);
      else expect(s.slice(0, end).endsWith("\r\n\r\n") && end > 0 && !/^(\r\n)*$/.test(s.slice(0, end))).toBe(true);
    }),
    { numRuns: 2000 },
  );
});

test("a head is not complete before its last byte", () => {
  fc.assert(
    fc.property(token(10), target, fc.array(field, { maxLength: 6 }), fc.nat({ max: 1 }), (method, t, fields, empties) => {
      const s = serialize(`${method} ${t} HTTP/1.1`, fields, [], empties);
      const buf = Buffer.from(s, "latin1");
      for (let n = 0; n < buf.length; n++) expect(headEnd(buf.subarray(0, n))).toBe(-1);
      expect(headEnd(Buffer.concat([buf, Buffer.from("GET / HTTP/1.1\r\n\r\n")]))).toBe(buf.length);
    }),
    { numRuns: 300 },
  );
});

const REQUEST = "POST /x HTTP/1.1\r\nHost: a\r\n";

test.each([
  ["a line without a colon", "X-A 1\r\n", /without a colon/],
  ["a bare LF", "X-A: 1\nX-B: 2\r\n", /LF alone/],
  ["a header line over 16 KB", `X-A: ${"a".repeat(17_000)}\r\n`, /longer than 16384/],
])("a request with %s cannot be read", (_what, lines, reason) => {
  const h = parseRequestHead(`${REQUEST}${lines}\r\n`);
  expect(h).toBeInstanceOf(HeadError);
  expect((h as HeadError).reason).toMatch(reason);
});

test.each([
  ["conflicting Content-Length values", "Content-Length: 5\r\nContent-Length: 6\r\n", /conflicting Content-Length/],
  ["a Content-Length list", "Content-Length: 5, 5\r\n", /not a number of bytes/],
  ["a signed Content-Length", "Content-Length: +5\r\n", /not a number of bytes/],
  ["a hexadecimal Content-Length", "Content-Length: 0x5\r\n", /not a number of bytes/],
  ["chunked twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", /chunked twice/],
])("a request with %s is read, its body length unknowable", (_what, lines, reason) => {
  const h = parsedRequest(`${REQUEST}${lines}\r\n`);
  expect(h.framingError).toMatch(reason);
});

test.each([
  ["gzip", "gzip"],
  ["chunked, gzip", "gzip"],
  ["gzip, chunked", "gzip"],
  ["xchunked", "xchunked"],
])("Transfer-Encoding: %s is a coding the load balancer does not support (%s)", (te, coding) => {
  expect(parsedRequest(`${REQUEST}Transfer-Encoding: ${te}\r\n\r\n`).unsupportedCoding).toBe(coding);
});

test("identity is no coding; Transfer-Encoding overrides Content-Length", () => {
  const identity = parsedRequest(`${REQUEST}Transfer-Encoding: identity\r\nContent-Length: 4\r\n\r\n`);
  expect([identity.unsupportedCoding, identity.chunked, identity.contentLength]).toEqual([undefined, false, 4]);
  const both = parsedRequest(`${REQUEST}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`);
  expect([both.chunked, both.transferEncoding, both.framingError]).toEqual([true, true, undefined]);
});

test("readable but not compliant: names with whitespace, obs-fold lines, control characters, odd versions and targets", () => {
  const spaced = parsedRequest(`${REQUEST}Content-Length : 5\r\n\r\n`);
  expect([spaced.raw.slice(2), spaced.contentLength]).toEqual([["Content-Length ", "5"], -1]);
  const folded = parsedRequest(`${REQUEST}X-A: 1\r\n continued: x\r\n\tno colon\r\n\r\n`);
  expect([folded.raw.slice(4), folded.foldedLines]).toEqual([[" continued", "x", "\tno colon", ""], 2]);
  expect(parsedRequest(`${REQUEST}X-A: a\u0000b\rc\r\n\r\n`).raw.slice(2)).toEqual(["X-A", "a\u0000b\rc"]);
  const newer = parsedRequest("GET / HTTP/1.2\r\n\r\n");
  expect([newer.version, newer.minor, newer.framingError]).toEqual(["HTTP/1.2", 1, undefined]);
  expect(parsedRequest("get / http/1.1\r\n\r\n").framingError).toMatch(/unknown protocol version/);
  expect(parsedRequest("GET  /a b HTTP/1.1\r\n\r\n").target).toBe(" /a b");
});

test.each([
  ["HTTP/2.0", "GET / HTTP/2.0", 505],
  ["no version (HTTP/0.9)", "GET /", 400],
  ["no target", "GET  HTTP/1.1", 400],
])("a request line with %s cannot be read (%s)", (_what, line, status) => {
  const h = parseRequestHead(`${line}\r\nHost: a\r\n\r\n`);
  expect(h).toBeInstanceOf(HeadError);
  expect((h as HeadError).status).toBe(status);
});

test("the scanner answers bare LF, HTTP/0.9 and over-long lines before the head is complete, byte by byte", () => {
  const scanned = (text: string) => {
    const scanner = new RequestHeadScanner();
    const bytes = Buffer.from(text, "latin1");
    for (let n = 1; n <= bytes.length; n++) {
      const e = scanner.scan(bytes.subarray(0, n));
      if (e) return e.reason;
    }
    return undefined;
  };
  expect(scanned("GET / HTTP/1.1\nHost: a\n")).toMatch(/LF alone/);
  expect(scanned("GET /index.html\r\n")).toMatch(/HTTP\/0\.9/);
  expect(scanned(`GET /${"a".repeat(17_000)}`)).toMatch(/request line longer/);
  expect(scanned(`GET / HTTP/1.1\r\nX: ${"a".repeat(17_000)}`)).toMatch(/header line longer/);
  expect(scanned("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next\n")).toBeUndefined(); // the head ends before the next request's bytes
});

test("identical Content-Length values are one length; connection tokens decide reuse and upgrades", () => {
  expect(parsedRequest(`${REQUEST}Content-Length: 7\r\nContent-Length: 7\r\n\r\n`).contentLength).toBe(7);
  expect(parsedRequest("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keepAlive).toBe(false);
  expect(parsedRequest("GET / HTTP/1.0\r\n\r\n").keepAlive).toBe(false);
  expect(parsedRequest("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive).toBe(true);
  const ws = parsedRequest("GET /ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n");
  expect([ws.upgrade, ws.keepAlive]).toEqual([true, true]);
  expect(parsedRequest("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").upgrade).toBe(false);
  expect(parsedRequest(`${REQUEST}Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n`).expectContinue).toBe(true);
  const res = parsedResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  expect([res.transferEncoding, res.chunked]).toEqual([true, false]); // a response may end with the connection
  expect(parsedResponse("HTTP/1.0 200 OK\r\n\r\n").keepAlive).toBe(false);
  expect(parsedResponse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keepAlive).toBe(false);
});

test.each([["HTTP/1.1 20 OK"], ["HTTP/1.1 2000 OK"], ["HTTP/1.1 200OK"], ["HTTP/3 200 OK"], ["HTTP/1.1 099 Low"]])("status line '%s' is refused", (line) => {
  expect(parseResponseHead(`${line}\r\n\r\n`)).toBeInstanceOf(HeadError);
});

test("MAX_HEAD_BYTES is AWS's 64 KB", () => {
  expect(MAX_HEAD_BYTES).toBe(65536);
});
