import fc from "fast-check";
import { headEnd, HeadError, MAX_HEAD_BYTES, parseRequestHead, parseResponseHead, RequestHead, ResponseHead } from "../../simulator/alb/http-head";

/**
 * Properties of the emulator's HTTP head parser (the ALB's request path reads request heads and
 * target response heads with it): valid heads round-trip field by field whatever the optional
 * whitespace and leading empty lines; framing follows RFC 9112 6.3 and refuses what could make
 * the load balancer and the target disagree on where a message ends; nothing makes it throw.
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
  ["Content-Length and Transfer-Encoding together", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", /both Transfer-Encoding and Content-Length/],
  ["conflicting Content-Length values", "Content-Length: 5\r\nContent-Length: 6\r\n", /conflicting Content-Length/],
  ["conflicting Content-Length list", "Content-Length: 5, 6\r\n", /conflicting Content-Length/],
  ["a signed Content-Length", "Content-Length: +5\r\n", /not a number of bytes/],
  ["a hexadecimal Content-Length", "Content-Length: 0x5\r\n", /not a number of bytes/],
  ["a request Transfer-Encoding without chunked", "Transfer-Encoding: gzip\r\n", /without chunked as the final coding/],
  ["chunked not last", "Transfer-Encoding: chunked, gzip\r\n", /chunked must be the final coding/],
  ["chunked twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", /chunked must be the final coding/],
  ["whitespace before the colon", "Content-Length : 5\r\n", /invalid header name/],
  ["obs-fold", "X-A: 1\r\n continued: x\r\n", /invalid header name/],
  ["obs-fold without a colon", "X-A: 1\r\n\tcontinued\r\n", /without a colon/],
  ["a line without a colon", "X-A 1\r\n", /without a colon/],
  ["a bare LF", "X-A: 1\nX-B: 2\r\n", /bare CR\/LF/],
  ["a bare CR", "X-A: 1\rX-B: 2\r\n", /bare CR\/LF/],
  ["a NUL in a value", "X-A: a\u0000b\r\n", /control character/],
])("a request with %s is refused", (_what, lines, reason) => {
  const h = parseRequestHead(`${REQUEST}${lines}\r\n`);
  expect(h).toBeInstanceOf(HeadError);
  expect((h as HeadError).reason).toMatch(reason);
});

test.each([
  ["a lowercase method line", "get / http/1.1"],
  ["two spaces", "GET  / HTTP/1.1"],
  ["a space in the target", "GET /a b HTTP/1.1"],
  ["HTTP/2.0", "GET / HTTP/2.0"],
  ["no version", "GET /"],
])("a request line with %s is refused", (_what, line) => {
  expect(parseRequestHead(`${line}\r\nHost: a\r\n\r\n`)).toBeInstanceOf(HeadError);
});

test("identical Content-Length values are one length; connection tokens decide reuse and upgrades", () => {
  expect(parsedRequest(`${REQUEST}Content-Length: 7\r\nContent-Length: 7, 7\r\n\r\n`).contentLength).toBe(7);
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
