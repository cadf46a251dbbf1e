/**
 * Where an HTTP/1.1 message body ends (RFC 9112 6-7), for a proxy that relays the body's bytes
 * unchanged: a countdown for Content-Length, a small state machine over the chunked coding (chunk
 * sizes, extensions, trailer fields), or the end of the connection. It never copies data: it only
 * says how many bytes of each chunk of input belong to the body.
 */

export type Framing = "none" | "length" | "chunked" | "close";

// States of the chunked decoder.
const S = {
  Size: 0, // hex digits of a chunk size
  Ext: 1, // chunk extension, up to CR
  SizeLf: 2, // LF after the size line
  Data: 3,
  DataCr: 4, // CR after chunk data
  DataLf: 5,
  Trailer: 6, // start of a trailer line, or the final CRLF
  TrailerLine: 7, // inside a trailer field line
  TrailerLf: 8,
  EndLf: 9, // LF of the final empty line
} as const;

/** Limits on the parts of the chunked coding that carry no data. */
const MAX_SIZE_DIGITS = 12; // 2^48 bytes: no overflow in a double
const MAX_METADATA = 64 * 1024; // extensions and trailer fields, per message

export class BodyFramer {
  framing: Framing = "none";
  /** The body is complete (never, for "close": the connection's end completes it). */
  done = true;
  /** Why the chunked coding was refused. */
  error?: string;
  private remaining = 0;
  private state: number = S.Size;
  private digits = 0;
  private metadata = 0;

  /** Starts a body: `length` bytes for "length". */
  reset(framing: Framing, length = 0): void {
    this.framing = framing;
    this.error = undefined;
    this.remaining = framing === "length" ? length : 0;
    this.state = S.Size;
    this.digits = 0;
    this.metadata = 0;
    this.done = framing === "none" || (framing === "length" && length === 0);
  }

  /**
   * Takes bytes from `buf[start..]`: returns the index where the body ends in `buf` (`buf.length`
   * when all of it is body), or -1 when the chunked coding is malformed (`error` says why).
   */
  consume(buf: Buffer, start: number): number {
    if (this.done) return start;
    switch (this.framing) {
      case "length": {
        const n = Math.min(this.remaining, buf.length - start);
        this.remaining -= n;
        this.done = this.remaining === 0;
        return start + n;
      }
      case "close":
        return buf.length;
      case "chunked":
        return this.chunked(buf, start);
      default:
        return start;
    }
  }

  private fail(why: string): number {
    this.error = why;
    return -1;
  }

  private chunked(buf: Buffer, i: number): number {
    const end = buf.length;
    while (i < end) {
      const c = buf[i];
      switch (this.state) {
        case S.Size: {
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail("chunk size too large");
            this.remaining = this.remaining * 16 + v;
          } else if (this.digits === 0) {
            return this.fail("chunk size is not a hexadecimal number");
          } else if (c === 13) {
            this.state = S.SizeLf;
          } else if (c === 59 || c === 32 || c === 9) {
            this.state = S.Ext; // ";" starts an extension (whitespace before it is tolerated, BWS)
          } else {
            return this.fail("invalid character after a chunk size");
          }
          i++;
          break;
        }
        case S.Ext:
          if (c === 13) this.state = S.SizeLf;
          else if (c === 10 || (c < 32 && c !== 9) || c === 127) return this.fail("invalid character in a chunk extension");
          else if (++this.metadata > MAX_METADATA) return this.fail("chunk extensions too long");
          i++;
          break;
        case S.SizeLf:
          if (c !== 10) return this.fail("chunk size line not ended by CRLF");
          this.digits = 0;
          this.state = this.remaining === 0 ? S.Trailer : S.Data;
          i++;
          break;
        case S.Data: {
          const n = Math.min(this.remaining, end - i);
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = S.DataCr;
          break;
        }
        case S.DataCr:
          if (c !== 13) return this.fail("chunk data not followed by CRLF");
          this.state = S.DataLf;
          i++;
          break;
        case S.DataLf:
          if (c !== 10) return this.fail("chunk data not followed by CRLF");
          this.state = S.Size;
          i++;
          break;
        case S.Trailer:
          if (c === 13) this.state = S.EndLf;
          else if (c === 10 || c < 32 || c === 127 || c === 58) return this.fail("malformed trailer field");
          else this.state = S.TrailerLine;
          if (++this.metadata > MAX_METADATA) return this.fail("trailer fields too long");
          i++;
          break;
        case S.TrailerLine:
          if (c === 13) this.state = S.TrailerLf;
          else if (c === 10 || (c < 32 && c !== 9) || c === 127) return this.fail("invalid character in a trailer field");
          if (++this.metadata > MAX_METADATA) return this.fail("trailer fields too long");
          i++;
          break;
        case S.TrailerLf:
          if (c !== 10) return this.fail("trailer field not ended by CRLF");
          this.state = S.Trailer;
          i++;
          break;
        case S.EndLf:
          if (c !== 10) return this.fail("chunked body not ended by CRLF");
          this.done = true;
          return i + 1;
      }
    }
    return end;
  }
}

/** Re-frames one piece of a body of unknown length as a chunk (for a keep-alive HTTP/1.1 client). */
export function asChunk(data: Buffer): Buffer {
  const size = `${data.length.toString(16)}\r\n`;
  const out = Buffer.allocUnsafe(size.length + data.length + 2);
  out.write(size, 0, "latin1");
  data.copy(out, size.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** The last chunk of a re-framed body. */
export const LAST_CHUNK = Buffer.from("0\r\n\r\n");
