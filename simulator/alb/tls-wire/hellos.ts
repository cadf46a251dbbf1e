import { FieldReader } from "./records";

/**
 * The hello messages (RFC 8446 section 4.1; RFC 5246 section 7.4.1) and the TLS 1.2 ECDHE
 * ServerKeyExchange (RFC 8422 section 5.4), read for what the load balancer logs and checks: the
 * versions, ciphers and groups a client offers, and what the server chose.
 */

const EXT = { serverName: 0, supportedGroups: 10, supportedVersions: 43, keyShare: 51 } as const;

export interface ClientHello {
  readonly random: Buffer;
  /** Offered protocol versions (supported_versions, else the legacy version), e.g. 0x0304. */
  readonly versions: readonly number[];
  readonly cipherSuites: readonly number[];
  /** supported_groups, in the client's order. */
  readonly groups: readonly number[];
  /** Groups the client sent a TLS 1.3 key share for. */
  readonly keyShareGroups: readonly number[];
  readonly serverName?: string;
}

export interface ServerHello {
  readonly random: Buffer;
  /** The negotiated version, e.g. 0x0303 or 0x0304. */
  readonly version: number;
  readonly cipherSuite: number;
  /** TLS 1.3: the key share's group (of a HelloRetryRequest: the group asked for). */
  readonly keyShareGroup?: number;
  readonly helloRetryRequest: boolean;
}

/** SHA-256 of "HelloRetryRequest": the ServerHello random that marks one (RFC 8446 4.1.3). */
const HRR_RANDOM = Buffer.from("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "hex");

function u16List(r: FieldReader): number[] {
  const out: number[] = [];
  while (r.remaining >= 2) out.push(r.u16());
  return out;
}

function extensions(r: FieldReader): Map<number, FieldReader> {
  const out = new Map<number, FieldReader>();
  if (r.remaining === 0) return out; // TLS 1.2 hellos may carry none
  const list = r.vector(2);
  while (list.remaining > 0) {
    const type = list.u16();
    out.set(type, list.vector(2));
  }
  return out;
}

export function parseClientHello(body: Buffer): ClientHello {
  const r = new FieldReader(body);
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  r.vector(1); // legacy_session_id
  const cipherSuites = u16List(r.vector(2));
  r.vector(1); // compression methods
  const ext = extensions(r);
  const versions = ext.has(EXT.supportedVersions) ? u16List(ext.get(EXT.supportedVersions)!.vector(1)) : [legacyVersion];
  const groups = ext.has(EXT.supportedGroups) ? u16List(ext.get(EXT.supportedGroups)!.vector(2)) : [];
  const keyShareGroups: number[] = [];
  const shares = ext.get(EXT.keyShare)?.vector(2);
  while (shares && shares.remaining > 0) {
    keyShareGroups.push(shares.u16());
    shares.vector(2);
  }
  let serverName: string | undefined;
  const sni = ext.get(EXT.serverName)?.vector(2);
  while (sni && sni.remaining > 0) {
    const type = sni.u8();
    const name = sni.vector(2);
    if (type === 0) serverName = name.bytes(name.remaining).toString("latin1");
  }
  return { random, versions, cipherSuites, groups, keyShareGroups, serverName };
}

export function parseServerHello(body: Buffer): ServerHello {
  const r = new FieldReader(body);
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  r.vector(1); // legacy_session_id_echo
  const cipherSuite = r.u16();
  r.u8(); // compression
  const ext = extensions(r);
  const helloRetryRequest = random.equals(HRR_RANDOM);
  const version = ext.get(EXT.supportedVersions)?.u16() ?? legacyVersion;
  const share = ext.get(EXT.keyShare);
  return { random, version, cipherSuite, keyShareGroup: share && share.remaining >= 2 ? share.u16() : undefined, helloRetryRequest };
}

/** The named group of a TLS 1.2 ECDHE ServerKeyExchange, or undefined for other key exchanges. */
export function serverKeyExchangeGroup(body: Buffer): number | undefined {
  const r = new FieldReader(body);
  return r.u8() === 3 /* named_curve */ ? r.u16() : undefined;
}
