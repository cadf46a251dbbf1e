import type { ClientHello } from "./tls-wire/hellos";
import { groupName } from "./tls-wire/names";
import { KEY_EXCHANGE_GROUPS } from "./tls-policy";

/**
 * The key exchange group OpenSSL chooses, from the ClientHello and the server's groups (in
 * preference order; the listener sets server preference): what the connection log's
 * `tls_keyexchange` holds for a handshake the emulator did not follow on the wire (Node does not
 * tell a server the group it used). RFC 8446 4.2.8 and OpenSSL 3.0's choice: in TLS 1.3 the first
 * key share the client sent for a group both support, else (a HelloRetryRequest) the server's first
 * group the client supports; in TLS 1.2 with an ECDHE cipher the server's first group the client
 * supports (any, when it lists none); `-` for RSA key transport.
 */

const SERVER_GROUPS: readonly number[] = KEY_EXCHANGE_GROUPS.map((g) => g.code);

export function chosenGroup(hello: ClientHello, protocol: string, cipher: string): string {
  const supported = (g: number) => hello.groups.length === 0 || hello.groups.includes(g);
  if (protocol === "TLSv1.3") {
    const share = hello.keyShareGroups.find((g) => SERVER_GROUPS.includes(g) && hello.groups.includes(g));
    const group = share ?? SERVER_GROUPS.find((g) => hello.groups.includes(g));
    return group === undefined ? "-" : groupName(group);
  }
  if (!cipher.startsWith("ECDHE-")) return "-";
  const group = SERVER_GROUPS.find(supported);
  return group === undefined ? "-" : groupName(group);
}
