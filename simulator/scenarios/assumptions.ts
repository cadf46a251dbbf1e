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
    id: "verify-no-cert-code",
    text: "Verify mode without a client certificate is logged as Failed:UnmappedConnectionError, and an X.509 v1 certificate as Failed:ClientCertTypeUnsupported (the code list is documented, which code applies to these two is not).",
    checkOnRealSystem: "read the connection log after such a connection",
  },
  {
    id: "verify-check-order",
    text: "When several checks fail (e.g. an expired certificate from another CA), the emulated ALB reports the first of: key type, X.509 version, trust, chain depth, validity, revocation.",
    checkOnRealSystem: "compare the connection-log code of a certificate that fails two checks",
  },
  {
    id: "ums-protocol",
    text: "The IGEL OS 12 device protocol is closed: onboarding is modelled as one HTTPS request (one-time enrollment key + CSR) and management as one mTLS WebSocket on 8443.",
    checkOnRealSystem: "run a real IGEL OS 12 device against the deployed topology (ums-edge doctor checks the paths it needs)",
  },
  {
    id: "ums-forwarded-checks",
    text: "The UMS checks a forwarded certificate's chain to its device CA, validity and revocation, but not AWS's limits (chain depth 4, RSA 2048+ or ECDSA, X.509 v3): behind a passthrough listener those certificates reach the UMS and are accepted.",
    checkOnRealSystem: "present a certificate chain deeper than 4 (or an RSA-1024 certificate) issued by the UMS CA through the passthrough listener",
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
    text: "A trust store CRL past its nextUpdate: AWS documents no behaviour (the ELB guide's trust store pages name no check of nextUpdate); the emulated ALB keeps refusing the serials it lists, and 'ums-edge synth' warns about it in the plan view.",
    checkOnRealSystem: "add a CRL whose nextUpdate has passed to a test trust store (aws elbv2 add-trust-store-revocations) and connect with a certificate it lists and one it does not",
  },
];
