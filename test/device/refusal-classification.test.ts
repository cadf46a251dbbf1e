import { refusalFromError, refusalFromHttp, describeRefusal, ConnectionFacts } from "../../simulator/device/refusal";

/** How a device names what turned it away, from the error Node gives it. */

const err = (code: string, message = code) => Object.assign(new Error(message), { code });
const before: ConnectionFacts = { tlsEstablished: false, clientCertSent: true, answered: false };
const after13: ConnectionFacts = { tlsEstablished: true, tlsProtocol: "TLSv1.3", clientCertSent: true, answered: false };

test.each([
  ["an OpenSSL alert", err("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "tlsv13 alert certificate required"), after13, "tls"],
  ["a certificate check of the server", err("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"), before, "tls"],
  ["a refused TCP connection", err("ECONNREFUSED"), before, "network"],
  ["a reset during the handshake", err("ECONNRESET"), before, "tls"],
  ["a reset right after a TLS 1.3 handshake with a client certificate", err("ECONNRESET"), after13, "tls"],
  ["a reset after an HTTP answer began", err("ECONNRESET"), { ...after13, answered: true }, "network"],
  ["a reset after TLS 1.2 (the handshake would have failed instead)", err("ECONNRESET"), { ...after13, tlsProtocol: "TLSv1.2" }, "network"],
  ["a reset right after a TLS 1.3 handshake without a client certificate (one was required)", err("ECONNRESET"), { ...after13, clientCertSent: false }, "tls"],
  ["a timeout", err("ETIMEDOUT"), after13, "network"],
] as const)("%s → %s", (_what, e, facts, kind) => {
  expect(refusalFromError("connect", e, facts).kind).toBe(kind);
});

test("an HTTP refusal body keeps the refuser's words; any other body its first characters", () => {
  expect(refusalFromHttp("onboard", 403, '{"error":"enrollment-key-used","reason":"a key works once","by":"ums"}')).toMatchObject({ kind: "http", status: 403, error: "enrollment-key-used", reason: "a key works once", by: "ums" });
  expect(refusalFromHttp("connect", 502, "<html>Bad Gateway</html>")).toMatchObject({ status: 502, reason: "<html>Bad Gateway</html>", by: undefined });
  expect(describeRefusal(refusalFromHttp("connect", 401, '{"error":"certificate-expired","reason":"expired at X","by":"alb"}'))).toBe("connect: HTTP 401 by alb [certificate-expired]: expired at X");
});
