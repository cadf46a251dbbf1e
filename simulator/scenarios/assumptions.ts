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
    text: "AWS documents no normalisation of the request path before listener rules match (dot segments, percent-encoding), nor whether a rule's regular expression sees more than the path. The stacks answer `..` and the encoded spellings (%2e, %5c, %25, %c0/%c1, a backslash) with a fixed 400 ahead of the allow-list, so the allow-list holds whichever form the ALB matches and whatever the UMS normalises.",
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
