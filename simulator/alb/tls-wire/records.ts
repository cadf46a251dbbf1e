/**
 * TLS record and handshake-message framing (RFC 8446 section 5.1 and 4; RFC 5246 section 6.2 and
 * 7.4): what the ALB emulator needs to follow a handshake from the wire without taking part in it.
 */

export const CONTENT_TYPE = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;

export const HANDSHAKE_TYPE = {
  clientHello: 1,
  serverHello: 2,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  clientKeyExchange: 16,
  finished: 20,
} as const;

export interface TlsRecord {
  readonly type: number;
  /** The record's legacy version field, e.g. 0x0303. */
  readonly version: number;
  /** The 5-byte header (the AEAD's additional data in TLS 1.3). */
  readonly header: Buffer;
  readonly body: Buffer;
}

/** Largest record body a peer may send (2^14 plaintext + 2048 expansion, RFC 5246 6.2.3). */
const MAX_BODY = 16384 + 2048;

export class TlsFramingError extends Error {}

/** Cuts a byte stream into records; bytes of an incomplete record wait for the next chunk. */
export class RecordSplitter {
  private buffered: Buffer | null = null;

  push(chunk: Buffer): TlsRecord[] {
    let buf = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
    const records: TlsRecord[] = [];
    while (buf.length >= 5) {
      const length = buf.readUInt16BE(3);
      if (length > MAX_BODY) throw new TlsFramingError(`a record announces ${length} bytes (more than TLS allows)`);
      if (buf.length < 5 + length) break;
      records.push({ type: buf[0], version: buf.readUInt16BE(1), header: buf.subarray(0, 5), body: buf.subarray(5, 5 + length) });
      buf = buf.subarray(5 + length);
    }
    this.buffered = buf.length > 0 ? buf : null;
    return records;
  }
}

export interface HandshakeMessage {
  readonly type: number;
  readonly body: Buffer;
}

/** Reassembles handshake messages from the contents of handshake records (messages may span records). */
export class HandshakeAssembler {
  private buffered: Buffer | null = null;

  push(content: Buffer): HandshakeMessage[] {
    let buf = this.buffered === null ? content : Buffer.concat([this.buffered, content]);
    const messages: HandshakeMessage[] = [];
    while (buf.length >= 4) {
      const length = buf.readUIntBE(1, 3);
      if (buf.length < 4 + length) break;
      messages.push({ type: buf[0], body: buf.subarray(4, 4 + length) });
      buf = buf.subarray(4 + length);
    }
    this.buffered = buf.length > 0 ? buf : null;
    return messages;
  }
}

/** A bounds-checked reader of TLS presentation-language fields. */
export class FieldReader {
  constructor(
    private readonly buf: Buffer,
    private at = 0,
    private readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.at;
  }

  private need(n: number): void {
    if (this.at + n > this.end) throw new TlsFramingError("a handshake message ends before its fields do");
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++];
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const v = this.buf.readUIntBE(this.at, 3);
    this.at += 3;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }

  /** A vector with a length prefix of 1, 2 or 3 bytes, as a reader of its own. */
  vector(lengthBytes: 1 | 2 | 3): FieldReader {
    const n = lengthBytes === 1 ? this.u8() : lengthBytes === 2 ? this.u16() : this.u24();
    const v = new FieldReader(this.buf, this.at, this.at + n);
    this.need(n);
    this.at += n;
    return v;
  }
}
