import type { HandshakeFacts } from "./handshake-watcher";
import { alertName } from "./tls-wire/alerts";
import { cipherName, versionName } from "./tls-wire/names";
import type { SecurityPolicy } from "./tls-policy";

/**
 * Why a handshake failed, in words, from what the watcher saw and the listener's security policy:
 * the explaining emulator's reason for a `connection-refused` event.
 */
export function handshakeFailureReason(facts: HandshakeFacts, policy: SecurityPolicy, opensslMessage?: string): string {
  const hello = facts.clientHello;
  if (facts.notTls || !hello) return `the client did not open with a TLS ClientHello${opensslMessage ? ` (${opensslMessage})` : ""}`;
  const offered = hello.versions.map(versionName);
  const policyNames = new Set(policy.ciphers);
  const ciphers = hello.cipherSuites.map(cipherName).filter((c) => !c.startsWith("0x"));
  const versionsInCommon = offered.filter((v) => (policy.protocols as readonly string[]).includes(v));
  const ciphersInCommon = ciphers.filter((c) => policyNames.has(c) && (c.startsWith("TLS_") ? versionsInCommon.includes("TLSv1.3") : versionsInCommon.some((v) => v !== "TLSv1.3")));
  const offer = `the client offered ${offered.join(", ")} with ${ciphers.join(", ") || "no cipher the emulator knows"}; listener policy ${policy.name} offers ${policy.protocols.join(", ")} with ${policy.ciphers.join(", ")}`;
  if (versionsInCommon.length === 0) return `no TLS version in common: ${offer}`;
  if (ciphersInCommon.length === 0) return `no cipher in common: ${offer}`;
  if (facts.alertFromServer !== undefined) return `the handshake failed: the load balancer sent alert ${alertName(facts.alertFromServer)}${opensslMessage ? ` (${opensslMessage})` : ""}`;
  if (facts.alertFromClient !== undefined) return `the client ended the handshake with alert ${alertName(facts.alertFromClient)} (it does not accept the listener's certificate, or the offer)`;
  return `the handshake failed${opensslMessage ? `: ${opensslMessage}` : ""}`;
}
