import type { Assumption } from "../report/model";

/** Behaviour neither AWS nor IGEL documents, which the simulation had to choose (shown in the report). */
export const ASSUMPTIONS: readonly Assumption[] = [
  {
    id: "passthrough-no-cert",
    text: "ALB passthrough with no client certificate: the request is forwarded without the X-Amzn-Mtls-Clientcert header (AWS documents no behaviour).",
    checkOnRealSystem: "send a request without a client certificate to the 8443 listener and look for the header at the UMS",
  },
  {
    id: "client-mtls-headers",
    text: "Client-supplied X-Amzn-Mtls-* headers are removed by the ALB before forwarding (undocumented; the safe choice).",
    checkOnRealSystem: "curl the 443 (verify) or 8443 (passthrough) listener with your own X-Amzn-Mtls-Clientcert-Leaf header and check that the UMS does not accept it",
  },
  {
    id: "alb-path-not-normalised",
    text: "AWS documents no normalisation of the request path before listener rules match (dot segments, percent-encoding), nor whether a rule's regular expression sees more than the path; the emulated ALB matches the path exactly as the client sent it ('The path pattern is used to route requests but does not alter them'), so /device-connector/../umsapi/ matches /device-connector/*. The stacks answer `..` and the encoded spellings (%2e, %5c, %25, %c0/%c1, a backslash) with a fixed 400 ahead of the allow-list, so the allow-list holds whichever form the ALB matches and whatever the UMS normalises.",
    checkOnRealSystem: "curl --path-as-is the 443 (verify) or 8443 listener with /device-connector/../umsapi/v3/serverstatus and /device-connector/%2e%2e/umsapi/v3/serverstatus: expect 400, and the access log's matched_rule_priority 2 or 3",
  },
  {
    id: "alb-verify-codes",
    text:
      "AWS lists 13 tls_verify_status codes without mapping every cause to one. The emulated ALB uses: no client certificate → UnmappedConnectionError; X.509 v1 or a key outside RSA 2048-8192 / ECDSA P-256/384/521 → ClientCertTypeUnsupported; a signature algorithm AWS does not list (SHA-1, MD5, RSASSA-PSS with SHA-1) → ClientCertIncompatible; an issuer that is not a CA (basicConstraints, keyUsage keyCertSign) → ClientCertUntrusted; a certificate that does not parse → ClientCertInvalid; a stale CRL → ClientCertCrlProcessingError; a handshake without a common version or cipher → UnmappedConnectionError with '-' in the TLS fields. ClientCertRejected ('custom server validation') is never produced: an ALB listener offers no custom validation.",
    checkOnRealSystem: "present the lab's wrong-purpose, non-ca-issuer, sha1-signed and x509-v1 devices to the verify listener and read tls_verify_status in the connection log",
  },
  {
    id: "alb-chain-depth",
    text:
      "AWS's 'maximum certificate chain depth 4' is applied twice, before trust is judged: to the certificates the client presents, and to the path from the device certificate up to and including the trust-store certificate it reaches. The lab's too-deep chain (5 CAs between device and root: 6 presented, 7 on the path) is too deep whichever certificates count.",
    checkOnRealSystem: "present a chain of 4 certificates (device + 3 CAs, root in the trust store) and one of 5 presented certificates; see which the ALB accepts",
  },
  {
    id: "alb-partial-chain",
    text:
      "A trust-store certificate need not be a root: the path ends at the first one it reaches (a trust store holding only the device CA accepts its devices), and the trust store completes a chain the client sends without its intermediates. AWS's TLS library s2n sets OpenSSL's PARTIAL_CHAIN flag for the same reason.",
    checkOnRealSystem: "upload a trust store holding only the UMS device CA (not its root) and connect a device",
  },
  {
    id: "presented-chain",
    text:
      "The chain judged (and, in passthrough, forwarded) is the client's Certificate message as sent over TLS 1.2, read on the wire; over TLS 1.3, where that message is encrypted, it is the chain OpenSSL received as Node rebuilds it: the device certificate and the presented certificates on its issuer path, so a presented certificate off that path (or an issuer without keyCertSign) is neither counted toward the depth nor forwarded. Reading the TLS 1.3 message too would put the emulator in the path of every byte and cost about a third more CPU per request.",
    checkOnRealSystem: "over TLS 1.3, present a device certificate followed by unrelated CA certificates (5 in all) to the verify listener, and to the passthrough listener read X-Amzn-Mtls-Clientcert at the UMS",
  },
  {
    id: "alb-purpose",
    text:
      "ClientCertPurposeInvalid: a device certificate with an extendedKeyUsage that holds neither clientAuth nor anyExtendedKeyUsage, or a keyUsage without digitalSignature (or keyAgreement), is refused — what OpenSSL's TLS client purpose checks. A certificate without those extensions passes.",
    checkOnRealSystem: "present the lab's wrong-purpose device (serverAuth only) to the verify listener",
  },
  {
    id: "alb-cert-size",
    text: "ClientCertMaxSizeExceeded: a presented certificate over 16 KiB ('CA certificate size 16 KB') or a presented chain over 64 KiB ('TLS message size 64K') is refused.",
    checkOnRealSystem: "present a certificate with a very long subjectAltName list (over 16 KiB)",
  },
  {
    id: "alb-expiry",
    text: "ignore_client_certificate_expiry ignores the expiry of every certificate of the path (the device certificate and its CAs); a certificate not yet valid is still refused.",
    checkOnRealSystem: "with the option on, present a device whose issuing CA has expired, and one whose certificate is not yet valid",
  },
  {
    id: "alb-refusal-alerts",
    text:
      "A refused client gets the alert OpenSSL sends for the matching verification error: unknown_ca (untrusted), certificate_expired, certificate_revoked, bad_certificate (not yet valid, too deep, too large, unlisted signature algorithm), unsupported_certificate (key type, X.509 v1, purpose), decode_error (does not parse), certificate_unknown (CRL processing); no certificate: certificate_required in TLS 1.3, handshake_failure in TLS 1.2. In TLS 1.3 the alert follows the client's Finished (the client reads it on its first read), as with any TLS 1.3 server.",
    checkOnRealSystem: "openssl s_client -cert <bad device> to the verify listener shows the alert the ALB sends",
  },
  {
    id: "verify-check-order",
    text:
      "When several checks fail, the emulated ALB reports the first of: size, parsing, presented count (depth), then for each presented certificate signature algorithm, key type, X.509 version; path depth; trust (incl. CA flags of issuers); purpose; validity; CRL processing; revocation.",
    checkOnRealSystem: "compare the connection-log code of a certificate that fails two checks (e.g. an expired certificate from another CA)",
  },
  {
    id: "tls-policies",
    text:
      "Each security policy offers the protocols and ciphers of AWS's tables, in the tables' order, server preference first. Not emulated: FIPS policies (refused by name); DES-CBC3-SHA of ELBSecurityPolicy-TLS-1-0-2015-04 (absent from Node's OpenSSL); the 2025-09 post-quantum (PQ) policies are offered with the ciphers of their 2021-06 namesake and without ML-KEM key exchange (Node's OpenSSL 3.0 has none).",
    checkOnRealSystem: "aws elbv2 describe-ssl-policies --names <your policy> and compare with simulator/alb/tls-policy.ts",
  },
  {
    id: "tls-groups",
    text:
      "Key exchange groups offered: X25519, P-256, P-384, server preference (AWS lists groups only for its PQ policies). tls_keyexchange holds the group's IANA name (x25519, secp256r1, ...), '-' for RSA key transport: read from the server's key exchange for TLS 1.2 handshakes on mTLS listeners, otherwise derived from the ClientHello as OpenSSL chooses (Node does not tell a server the group it used).",
    checkOnRealSystem: "read tls_keyexchange in a real connection log after connecting with openssl s_client -groups P-384",
  },
  {
    id: "tls-handshake-failures",
    text:
      "A handshake that fails (no common version or cipher, or either side sends an alert) gets a connection-log line Failed:UnmappedConnectionError; a client that opens a connection and goes away without a word gets none. Client-initiated renegotiation is answered with OpenSSL's no_renegotiation alert.",
    checkOnRealSystem: "connect with openssl s_client -tls1_2 -cipher AES128-SHA to a TLS13-1-2 listener and read the connection log",
  },
  {
    id: "log-delivery",
    text:
      "Log objects (.log.gz, per node and 5-minute interval, named as in AWS's examples: conn_log_<account>_... for connection logs) are delivered at the end of their interval or when the emulator stops, into the folder of that day; until then the interval's lines are in a plain-text tail of the same name without .gz. Answers the load balancer gives itself (fixed responses, 5xx) carry a new trace ID in the access log, as a forwarded request would.",
    checkOnRealSystem: "list the log bucket after a few minutes of traffic and compare object names and folders",
  },
  {
    id: "ums-protocol",
    text: "The IGEL OS 12 device protocol is closed: onboarding is modelled as one HTTPS request (one-time enrollment key + CSR) and management as one mTLS WebSocket on 8443.",
    checkOnRealSystem: "run a real IGEL OS 12 device against the deployed topology (ums-edge doctor checks the paths it needs)",
  },
  {
    id: "ums-forwarded-checks",
    text:
      "The UMS (and, configured separately, the ICG) checks a device certificate as a Java PKIX validation does: the chain to its device CA with every issuer a CA, validity and revocation — not AWS's limits (chain depth 4, RSA 2048+ or ECDSA, X.509 v3, SHA-256+ signatures, clientAuth purpose, size). Behind a passthrough listener or without a front, such certificates reach the UMS and are accepted.",
    checkOnRealSystem: "present a serverAuth-only, a SHA-1-signed and a 6-deep device certificate issued by the UMS CA through the passthrough listener and see which the UMS accepts",
  },
  {
    id: "ums-url-aws-missing",
    text: "A UMS with forwarding on but without encodingType URL_AWS reads the header as plain PEM, so a URL-encoded certificate from the ALB cannot be read and the request is refused (400).",
    checkOnRealSystem: "the IGEL guide says URL_AWS must be set explicitly; confirm the UMS log message without it",
  },
  {
    id: "reverse-proxy-header",
    text: "The reverse proxy forwards the verified certificate URL-encoded ($ssl_client_escaped_cert) in X-Ssl-Client-Cert, read by the UMS with encodingType URL_AWS; certificates nginx cannot verify are answered 400 by nginx on every path.",
    checkOnRealSystem: "use the header name and encoding of your UMS 12.02+ SSL-offloading setup",
  },
  {
    id: "icg-relay",
    text: "The ICG relays onboarding as well as management sessions, verifies device certificates with the CA and CRL the UMS registered, and refuses the update proxy path (devices fall back to the App Portal).",
    checkOnRealSystem: "onboard a device through the ICG and check where it downloads apps from",
  },
  {
    id: "alb-regex-conditions",
    text: "A regex_values path condition matches when its regular expression matches anywhere in the path (unanchored), as most regular-expression engines search; AWS does not say whether it matches the whole path.",
    checkOnRealSystem: "add a rule with regex_values [\"umsapi\"] (unanchored) and see whether /x/umsapi/y matches it",
  },
  {
    id: "alb-desync-library",
    text: "Requests are classified by AWS's table of classification reasons; where a reason's one-line description leaves a shape open (which Transfer-Encoding values are 'bad', what a 'suspicious' header is, which finding wins when several apply), the emulator follows the http_desync_guardian library AWS names as its classifier.",
    checkOnRealSystem: "send the shape to the ALB and read classification and classification_reason in the access log",
  },
  {
    id: "alb-monitor-unframeable",
    text: "In monitor mode AWS documents Severe requests as allowed; the emulator still answers 400 to those whose body length cannot be known (bad or conflicting Content-Length, chunked twice, a malformed version) and 501 to an unknown Transfer-Encoding, since nothing says where such a body would end.",
    checkOnRealSystem: "with desync_mitigation_mode = monitor, send Content-Length: 5, 6 and Transfer-Encoding: xchunked and see what the target receives",
  },
  {
    id: "alb-unreadable-heads",
    text: "The ALB answers 400 at once to a request head it cannot read: lines ended by LF alone, an HTTP/0.9 request line (no version), a header line without a colon (a continuation line is passed on with a colon appended, as AWS documents), a request line without a target.",
    checkOnRealSystem: "printf 'GET / HTTP/1.1\\nHost: x\\n\\n' and printf 'GET /\\r\\n' through openssl s_client -quiet -connect <alb>:443",
  },
  {
    id: "alb-own-answers-order",
    text: "The load balancer's own answers are checked in this order: unreadable head (400/505), desync mitigation (400), unknowable body length (400), unsupported Transfer-Encoding (501), TRACE (405), more than 30 X-Forwarded-For addresses (463); then the listener rules.",
    checkOnRealSystem: "send a TRACE request with 31 X-Forwarded-For addresses and see whether the answer is 405 or 463",
  },
  {
    id: "alb-head-deadline",
    text: "A request head must be complete one idle timeout after its first byte, however slowly its bytes arrive (408 in the access log); AWS documents only the idle timeout, which every byte resets, so this deadline is the emulator's guard against slowloris clients.",
    checkOnRealSystem: "open a connection to the listener, send one header byte every 10 s, and time when the ALB closes it",
  },
  {
    id: "alb-lingering-close",
    text: "When the load balancer answers before a request body is complete (a target's early 413, a fixed response), it drops the rest of the body as it comes and closes the connection if the body is not complete within 2 s; a closing connection also drops what its client still sends for 2 s before the socket is closed.",
    checkOnRealSystem: "upload a large body to a path answered with a fixed response, stop sending half way, and time when the ALB closes the connection",
  },
  {
    id: "alb-host-header",
    text: "With preserve_host_header off, the target receives one Host field (the first the client sent, rewritten as AWS documents: port removed on 80/443, listener port appended elsewhere, the host of an absolute request target); with it on, every Host field as received.",
    checkOnRealSystem: "send two Host headers through the 8443 listener and look at what the UMS receives",
  },
  {
    id: "alb-space-in-uri",
    text: "A request target with an unencoded space (SpaceInUri, an Acceptable request) is forwarded with the space encoded as %20; spaces around the target are dropped.",
    checkOnRealSystem: "send GET /a b HTTP/1.1 with desync_mitigation_mode defensive and look at the request line the target receives",
  },
  {
    id: "alb-trace-without-root",
    text: "An X-Amzn-Trace-Id without a Root field gets a new Root in front and keeps its other fields (AWS documents the header without a Root only when it is absent altogether).",
    checkOnRealSystem: "send X-Amzn-Trace-Id: CalledFrom=app and read the header at the target",
  },
  {
    id: "alb-all-initial",
    text: "A target group whose targets are all still in the initial state (no health check passed yet) gets no request: the ALB answers 503. AWS says a target must pass the initial health checks before it receives requests, and fails open only to unhealthy targets.",
    checkOnRealSystem: "register a new target and send a request before its first health check has passed",
  },
  {
    id: "alb-keepalive-websocket",
    text: "client_keep_alive closes HTTP connections after the response in flight once it has run out; an upgraded WebSocket is not cut by it (only by the idle timeout).",
    checkOnRealSystem: "hold a WebSocket with regular traffic through the ALB for longer than client_keep_alive",
  },
  {
    id: "servlet-path-permissive",
    text: "The mock UMS and ICG resolve a request path as the most permissive servlet container would: ';' path parameters removed, percent-escapes decoded once (including %2F and %5C), backslashes as slashes, duplicate slashes merged, dot segments resolved. A real UMS (Tomcat defaults) refuses encoded slashes and backslashes with 400, so it serves a subset of what the simulation counts as reachable.",
    checkOnRealSystem: "curl --path-as-is https://<ums>:8443/device-connector/..;/umsapi/v3/serverstatus and ..%2f.. against the UMS directly",
  },
  {
    id: "ums-reenrollment",
    text: "The UMS refuses onboarding of a unit id it already knows (409) unless the administrator allowed that device's re-enrollment (the mock's IMI call POST /umsapi/v3/thinclients/<id>/reenrollment); re-enrolling revokes the device's old certificate. How a real UMS 12 handles a second enrollment of a known unit id is not documented.",
    checkOnRealSystem: "onboard a device, then onboard again with the same unit id and a new enrollment key, and check the UMS console for the device's state",
  },
  {
    id: "ums-admin-lockout",
    text: "The IMI API locks an account for 30 s after 5 wrong passwords, doubling with each lockout up to 15 min, refusing even the right password meanwhile (429); POST /umsapi/v3/logout ends a session. IGEL documents no lockout policy for the IMI.",
    checkOnRealSystem: "try wrong IMI passwords against the UMS and see whether and when it stops accepting the right one",
  },
  {
    id: "health-check-timing",
    text: "Health checks run with the stack's thresholds but 50 times faster (interval 0.6 s instead of 30 s), so the simulation does not wait minutes for a target to turn healthy.",
    checkOnRealSystem: "a new target needs about one interval (30 s) before the ALB routes to it",
  },
  {
    id: "trust-store-stale-crl",
    text:
      "A trust store CRL past its nextUpdate (or before its thisUpdate): AWS documents no behaviour (the ELB guide's trust store pages name no check of nextUpdate). The emulated ALB fails the certificates that CA issued with ClientCertCrlProcessingError (the code AWS lists for 'CRL processing error'; the safe side: the bench never says a device gets in on a CRL AWS might refuse), and 'ums-edge synth' warns about the CRL in the plan view.",
    checkOnRealSystem: "add a CRL whose nextUpdate has passed to a test trust store (aws elbv2 add-trust-store-revocations) and connect with a certificate it lists and one it does not",
  },
  {
    id: "os12-heartbeat-interval",
    text:
      "IGEL does not publish how often an OS 12 device sends something on its management WebSocket. The simulation makes it a parameter: the idle-timeout rows run devices heartbeating at 1.5x and 0.3x the stack's idle_timeout (both time-scaled 25 times: 60 s becomes 2.4 s), and 'synth' (devices.heartbeatSeconds) and 'lint' (--heartbeat-seconds) warn when a stack's idle_timeout is not above the interval you state. The ALB's idle timer closes the TCP connection without a WebSocket close frame (devices see 1006).",
    checkOnRealSystem: "capture a device's traffic to the UMS (or read the UMS's device-connection log) for an hour of an idle device and note the longest gap; set idle_timeout well above it",
  },
  // --- certificates changing under a running deployment (issue 15 §2)
  {
    id: "trust-store-update-sessions",
    text:
      "A trust store update (ModifyTrustStore with a new CA bundle object version, AddTrustStoreRevocations with a new CRL) or an ACM re-import of the listener's certificate applies to new TLS handshakes only: connections already established stay open and keep their verdict (AWS documents no effect on open connections). The emulated ALB applies a re-synthesized stack this way without a restart (about 1 s after cdk.tf.json changes); a device is refused at its next connect, and its open WebSocket is not cut. How long the real update takes to reach every ALB node is not documented either.",
    checkOnRealSystem: "hold a device WebSocket open through the verify listener, then remove its CA from the trust store bundle (or add a CRL revoking it) and apply: check whether the session stays, that the device's next connect is refused (connection log Failed:ClientCertUntrusted / ClientCertCrlHit), and how many seconds after the apply that happens",
  },
  {
    id: "ums-crl-update",
    text:
      "The mock UMS re-reads its device CA chain and CRL when the files change (a real UMS is itself the device CA and knows a revocation at once) and hands the new CRL to a connected ICG over the tunnel ('trust-update'); an ICG otherwise only learns a CRL when the UMS registers. Open device sessions are not cut by a revocation, at the UMS or at the ICG: the device is refused at its next connect. nginx applies a new CRL by a reload (the revoked serials are in its config); its old workers close open WebSockets after worker_shutdown_timeout (5 s), so behind nginx a CRL update reconnects every device.",
    checkOnRealSystem: "revoke a device certificate in the UMS console while the device is online (directly, behind an ICG): check whether its session is closed at once or only its next connect is refused, and how soon the ICG refuses it",
  },
  // --- end certificates changing
  // --- UMS state and HA cluster (issue 15 §1)
  {
    id: "ums-ha-shared-database",
    text:
      "The mock UMS servers of an HA cluster share devices, enrollment keys and the command queue through one PostgreSQL database, and a command queued on one server reaches the server holding the device's session through PostgreSQL NOTIFY. IGEL documents that a UMS HA cluster shares one database, not how its servers hand commands to each other. Exactly once: a server writes a command's delivery (DELIVERED, deliveries + 1) in one conditional statement before it sends the frame; an acknowledged command is never sent again by any server; one sent but not acknowledged when its server died is sent again on the device's next session with the same commandId, which the device de-duplicates (design section 6: our model of the closed OS 12 protocol).",
    checkOnRealSystem: "in a two-server UMS cluster behind the ALB, stop the UMS service on the server a device is connected to, send a command from the other server's console, and check that the device executes it once after it reconnects",
  },
  {
    id: "alb-no-retry-on-dead-target",
    text:
      "A request or WebSocket upgrade the ALB sends to a target that has died but is not yet marked unhealthy gets a 502; the ALB does not retry it on another target (AWS documents no retry; AWS re:Post answers say the ALB only forwards the error). Devices retry with backoff, so they are back on the surviving server within interval x unhealthy threshold (the stack's health check) plus one interval and their backoff; the failover row states that bound on the emulator's 50x faster clock.",
    checkOnRealSystem: "stop one UMS server of the target group and watch the access log for 502s with target_status_code '-' until the target is unhealthy; time how long devices take to show up on the other server",
  },
  // --- end UMS state and HA cluster
  {
    id: "ums-swallows-refused-body",
    text:
      "The mock UMS and ICG refuse a body over their limit (onboarding 16 KiB) with 413 only after reading the rest of it, up to 2 MiB, and refuse a larger one at once. IGEL does not document it; the UMS runs on Tomcat, whose maxSwallowSize (default 2 MiB) does this, and without it a proxy still writing the body (nginx) gets a reset and answers the device 502 instead of 413.",
    checkOnRealSystem: "POST a 70 KB JSON body to /device-connector/v1/onboard through your reverse proxy and expect the UMS's 4xx, not a 502 from the proxy",
  },
];
