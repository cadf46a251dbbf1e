import type { HandshakeFacts } from "./handshake-watcher";
import type { ClientHello } from "./tls-wire/hellos";
import { alertName } from "./tls-wire/alerts";
import { cipherName, versionName } from "./tls-wire/names";
import type { SecurityPolicy } from "./tls-policy";

/**
 * Why a handshake failed, in words, from the client's offer, what was seen on the wire and the
 * listener's security policy: the explaining emulator's reason for a `connection-refused` event.
 */
export function handshakeFailureReason(hello: ClientHello | undefined, watched: HandshakeFacts | undefined, policy: SecurityPolicy, opensslMessage?: string): string {
  const openssl = opensslMessage ? ` (${opensslMessage.trim()})` : "";
  if (!hello) return `the client did not open with a TLS ClientHello${openssl}`;
  const offered = hello.versions.map(versionName);
  const policyCiphers = new Set(policy.ciphers);
  const ciphers = hello.cipherSuites.map(cipherName).filter((c) => !c.startsWith("0x"));
  const versionsInCommon = offered.filter((v) => (policy.protocols as readonly string[]).includes(v));
  const ciphersInCommon = ciphers.filter((c) => policyCiphers.has(c) && (c.startsWith("TLS_") ? versionsInCommon.includes("TLSv1.3") : versionsInCommon.some((v) => v !== "TLSv1.3")));
  const offer = `the client offered ${offered.join(", ")} with ${ciphers.join(", ") || "no cipher the emulator knows"}; listener policy ${policy.name} offers ${policy.protocols.join(", ")} with ${policy.ciphers.join(", ")}`;
  if (versionsInCommon.length === 0) return `no TLS version in common: ${offer}`;
  if (ciphersInCommon.length === 0) return `no cipher in common: ${offer}`;
  if (watched?.alertFromServer !== undefined) return `the handshake failed: the load balancer sent alert ${alertName(watched.alertFromServer)}${openssl}`;
  if (watched?.alertFromClient !== undefined) return `the client ended the handshake with alert ${alertName(watched.alertFromClient)} (it does not accept the listener's certificate, or the offer)`;
  return `the handshake failed${openssl}`;
}
