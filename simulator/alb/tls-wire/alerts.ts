import { CONTENT_TYPE } from "./records";
import { sealRecord, TrafficKeys } from "./tls13-protection";

/**
 * TLS alerts (RFC 8446 section 6; RFC 5246 section 7.2): their names, and the fatal alert record
 * the load balancer sends a client it refuses — in the clear before the handshake is protected
 * (TLS 1.2 and earlier refuse the certificate before the server's Finished), sealed with the
 * server's application traffic keys in TLS 1.3 (the server has sent its Finished by then).
 */

export const ALERT = {
  handshakeFailure: 40,
  badCertificate: 42,
  unsupportedCertificate: 43,
  certificateRevoked: 44,
  certificateExpired: 45,
  certificateUnknown: 46,
  unknownCa: 48,
  decodeError: 50,
  protocolVersion: 70,
  insufficientSecurity: 71,
  certificateRequired: 116,
} as const;

const NAMES: Readonly<Record<number, string>> = {
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  40: "handshake_failure",
  42: "bad_certificate",
  43: "unsupported_certificate",
  44: "certificate_revoked",
  45: "certificate_expired",
  46: "certificate_unknown",
  47: "illegal_parameter",
  48: "unknown_ca",
  50: "decode_error",
  51: "decrypt_error",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  86: "inappropriate_fallback",
  90: "user_canceled",
  100: "no_renegotiation",
  109: "missing_extension",
  110: "unsupported_extension",
  112: "unrecognized_name",
  116: "certificate_required",
  120: "no_application_protocol",
};

export function alertName(description: number): string {
  return NAMES[description] ?? `alert ${description}`;
}

const FATAL = 2;

/** A fatal alert in the clear, in a record of the negotiated version (e.g. 0x0303). */
export function plainAlert(description: number, recordVersion: number): Buffer {
  return Buffer.from([CONTENT_TYPE.alert, recordVersion >> 8, recordVersion & 0xff, 0, 2, FATAL, description]);
}

/** A fatal alert sealed with TLS 1.3 traffic keys, as record `seq` under them. */
export function sealedAlert(description: number, keys: TrafficKeys, seq: number): Buffer {
  return sealRecord(keys, seq, CONTENT_TYPE.alert, Buffer.from([FATAL, description]));
}
