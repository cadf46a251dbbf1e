import { createCipheriv, createHmac, CipherGCMTypes } from "node:crypto";
import { CONTENT_TYPE } from "./records";

/**
 * TLS 1.3 record protection (RFC 8446 sections 5.2, 5.3 and 7.3): traffic keys from a traffic
 * secret, and AEAD sealing of one record — the alert the emulator answers a refused certificate
 * with. The secret comes from OpenSSL's key log, in memory only (never logged).
 */

interface Aead {
  readonly cipher: "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305";
  readonly keyLength: number;
  readonly hash: "sha256" | "sha384";
}

const AEADS: Readonly<Record<number, Aead>> = {
  0x1301: { cipher: "aes-128-gcm", keyLength: 16, hash: "sha256" },
  0x1302: { cipher: "aes-256-gcm", keyLength: 32, hash: "sha384" },
  0x1303: { cipher: "chacha20-poly1305", keyLength: 32, hash: "sha256" },
};

export interface TrafficKeys {
  readonly aead: Aead;
  readonly key: Buffer;
  readonly iv: Buffer;
}

/** HKDF-Expand (RFC 5869) for lengths up to one hash output. */
function hkdfExpand(hash: string, prk: Buffer, info: Buffer, length: number): Buffer {
  return createHmac(hash, prk).update(info).update(Buffer.from([1])).digest().subarray(0, length);
}

/** HKDF-Expand-Label(secret, label, "", length). */
function expandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, "latin1");
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  return hkdfExpand(hash, secret, info, length);
}

/** The keys of a traffic secret for a TLS 1.3 cipher suite; undefined for a suite we cannot protect. */
export function trafficKeys(cipherSuite: number, secret: Buffer): TrafficKeys | undefined {
  const aead = AEADS[cipherSuite];
  if (!aead) return undefined;
  return { aead, key: expandLabel(aead.hash, secret, "key", aead.keyLength), iv: expandLabel(aead.hash, secret, "iv", 12) };
}

function nonce(iv: Buffer, seq: number): Buffer {
  const n = Buffer.from(iv);
  // The sequence number, left-padded to the IV's length, XORed in (fits in 48 bits here).
  for (let i = 0, s = seq; i < 6; i++, s = Math.floor(s / 256)) n[11 - i] ^= s & 0xff;
  return n;
}

const TAG_LENGTH = 16;

/** Seals `content` of `type` as one protected record (outer type application_data). */
export function sealRecord(keys: TrafficKeys, seq: number, type: number, content: Buffer): Buffer {
  const inner = Buffer.concat([content, Buffer.from([type])]);
  const header = Buffer.from([CONTENT_TYPE.applicationData, 0x03, 0x03, (inner.length + TAG_LENGTH) >> 8, (inner.length + TAG_LENGTH) & 0xff]);
  const cipher = createCipheriv(keys.aead.cipher as CipherGCMTypes, keys.key, nonce(keys.iv, seq), { authTagLength: TAG_LENGTH });
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([header, body]);
}
