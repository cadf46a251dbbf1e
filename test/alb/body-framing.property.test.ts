import fc from "fast-check";
import { asChunk, BodyFramer, LAST_CHUNK } from "../../simulator/alb/body-framing";

/**
 * Properties of the body framer the emulator relays bodies with: however a body is split into
 * reads, it says exactly where the body ends (never a byte into the next message) and that it is
 * done only then; malformed chunked codings are refused, never read past.
 */

interface Encoded {
  readonly bytes: Buffer;
  readonly data: Buffer;
}

const ext = fc.oneof(fc.constant(""), fc.constantFrom(";a", ";name=value", ';q="x y"', " ;b=1", "\t;c"));
const trailer = fc.constantFrom("Expires: never", "X-Sum: 1", "x:y");
const hexCase = fc.boolean();

/** A chunked body: chunks of random bytes, random size spelling (case, leading zeros), extensions, trailers. */
const chunked: fc.Arbitrary<Encoded> = fc
  .tuple(fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 300 }), ext, hexCase, fc.nat({ max: 2 })), { maxLength: 8 }), ext, fc.array(trailer, { maxLength: 3 }))
  .map(([chunks, lastExt, trailers]) => {
    const parts: Buffer[] = [];
    for (const [data, e, upper, zeros] of chunks) {
      const size = "0".repeat(zeros) + (upper ? data.length.toString(16).toUpperCase() : data.length.toString(16));
      parts.push(Buffer.from(`${size}${e}\r\n`), Buffer.from(data), Buffer.from("\r\n"));
    }
    parts.push(Buffer.from(`0${lastExt}\r\n${trailers.map((t) => `${t}\r\n`).join("")}\r\n`));
    return { bytes: Buffer.concat(parts), data: Buffer.concat(chunks.map(([d]) => Buffer.from(d))) };
  });

/** Cuts `buf` into pieces at the given fractions. */
function split(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * buf.length)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    if (c > from) pieces.push(buf.subarray(from, c));
    from = Math.max(from, c);
  }
  pieces.push(buf.subarray(from));
  return pieces.filter((p) => p.length > 0);
}

/** Feeds pieces; returns the bytes taken as body and the bytes left after the end. */
function feed(f: BodyFramer, pieces: readonly Buffer[]): { taken: number; rest: Buffer; doneEarly: boolean } {
  let taken = 0;
  let doneEarly = false;
  for (let i = 0; i < pieces.length; i++) {
    if (f.done) return { taken, rest: Buffer.concat(pieces.slice(i)), doneEarly };
    const e = f.consume(pieces[i], 0);
    if (e < 0) throw new Error(`refused: ${f.error}`);
    taken += e;
    if (f.done) {
      doneEarly = false;
      return { taken, rest: Buffer.concat([pieces[i].subarray(e), ...pieces.slice(i + 1)]), doneEarly };
    }
  }
  return { taken, rest: Buffer.alloc(0), doneEarly };
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 });
const next = fc.constantFrom("", "GET / HTTP/1.1\r\n\r\n", "0\r\n\r\n", "\r\n");

test("chunked: the body ends exactly after the last chunk and trailers, however it is split", () => {
  fc.assert(
    fc.property(chunked, next, cuts, (body, following, c) => {
      const f = new BodyFramer();
      f.reset("chunked");
      expect(f.done).toBe(false);
      const { taken, rest } = feed(f, split(Buffer.concat([body.bytes, Buffer.from(following)]), c));
      expect(f.done).toBe(true);
      expect(taken).toBe(body.bytes.length);
      expect(rest.toString("latin1")).toBe(following);
    }),
    { numRuns: 1000 },
  );
});

test("chunked: not done before the last byte", () => {
  fc.assert(
    fc.property(chunked, (body) => {
      const f = new BodyFramer();
      f.reset("chunked");
      expect(f.consume(body.bytes.subarray(0, body.bytes.length - 1), 0)).toBe(body.bytes.length - 1);
      expect(f.done).toBe(false);
      expect(f.consume(body.bytes.subarray(body.bytes.length - 1), 0)).toBe(1);
      expect(f.done).toBe(true);
    }),
    { numRuns: 300 },
  );
});

test("Content-Length: exactly that many bytes, however they are split", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), next, cuts, (data, following, c) => {
      const f = new BodyFramer();
      f.reset(data.length === 0 ? "none" : "length", data.length);
      const { taken, rest } = feed(f, split(Buffer.concat([Buffer.from(data), Buffer.from(following)]), c));
      expect(f.done).toBe(true);
      expect(taken).toBe(data.length);
      expect(rest.toString("latin1")).toBe(following);
    }),
    { numRuns: 500 },
  );
});

test("a body of unknown length re-framed as chunks decodes to the same bytes", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 500 }), { maxLength: 6 }), cuts, (pieces, c) => {
      const encoded = Buffer.concat([...pieces.map((p) => asChunk(Buffer.from(p))), LAST_CHUNK]);
      const f = new BodyFramer();
      f.reset("chunked");
      const { taken, rest } = feed(f, split(encoded, c));
      expect([f.done, taken, rest.length]).toEqual([true, encoded.length, 0]);
    }),
    { numRuns: 300 },
  );
});

test.each([
  ["a size that is not hexadecimal", "g\r\n"],
  ["an empty size", "\r\n"],
  ["a size too large for a double", "1000000000000\r\n"],
  ["a bare LF after the size", "1\nx\r\n0\r\n\r\n"],
  ["chunk data longer than its size", "1\r\nxy\r\n0\r\n\r\n"],
  ["a control character in an extension", "1;a\u0001\r\nx\r\n"],
  ["a trailer line starting with a colon", "0\r\n:x\r\n\r\n"],
  ["a final LF without CR", "0\r\n\n"],
])("chunked with %s is refused", (_what, text) => {
  const f = new BodyFramer();
  f.reset("chunked");
  expect(f.consume(Buffer.from(text, "latin1"), 0)).toBe(-1);
  expect(f.error).toBeTruthy();
});

test("a body delimited by the connection's end takes everything and is never done by itself", () => {
  const f = new BodyFramer();
  f.reset("close");
  expect(f.consume(Buffer.from("0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 0)).toBe(23);
  expect(f.done).toBe(false);
});
