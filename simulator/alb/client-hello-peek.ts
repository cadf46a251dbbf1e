import type * as net from "node:net";
import { ClientHello, parseClientHello } from "./tls-wire/hellos";
import { CONTENT_TYPE, HANDSHAKE_TYPE, HandshakeAssembler, RecordSplitter } from "./tls-wire/records";

/**
 * Reads a new connection's first bytes up to its ClientHello, before any TLS code sees them: what
 * the client offers (versions, ciphers, groups, server name) decides how the listener follows the
 * handshake, and the bytes go back to the socket for Node's TLS server to read.
 */

export interface PeekedHello {
  /** Every byte read, to hand back to the socket. */
  readonly bytes: Buffer;
  /** undefined: the client did not open with a TLS ClientHello. */
  readonly hello?: ClientHello;
}

/** A ClientHello larger than this is left to OpenSSL to refuse. */
const MAX_BYTES = 64 * 1024;
/** A client that says nothing for this long is dropped (Node's TLS handshake timeout). */
const SILENCE_MS = 120_000;

export function peekClientHello(raw: net.Socket, done: (peeked: PeekedHello) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const records = new RecordSplitter();
  const messages = new HandshakeAssembler();
  const finish = (hello?: ClientHello) => {
    raw.setTimeout(0);
    raw.off("data", onData);
    raw.off("end", onEnd);
    raw.pause();
    done({ bytes: Buffer.concat(chunks, size), hello });
  };
  const onEnd = () => finish();
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    try {
      for (const r of records.push(chunk)) {
        if (r.type !== CONTENT_TYPE.handshake) return finish();
        for (const m of messages.push(r.body)) return finish(m.type === HANDSHAKE_TYPE.clientHello ? parseClientHello(m.body) : undefined);
      }
    } catch {
      return finish();
    }
    if (size > MAX_BYTES) finish();
  };
  raw.on("data", onData);
  raw.on("end", onEnd);
  raw.setTimeout(SILENCE_MS, () => raw.destroy());
}
