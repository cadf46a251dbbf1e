/**
 * Headers an AWS ALB adds to forwarded requests (ELB user guide, "Mutual authentication with TLS"
 * and "HTTP headers and Application Load Balancers"). Lower-case, as Node presents them.
 */
export const MTLS_HEADERS = {
  /** passthrough: the whole presented chain, leaf first, URL-encoded PEM */
  clientcert: "x-amzn-mtls-clientcert",
  /** verify: the leaf, URL-encoded PEM */
  leaf: "x-amzn-mtls-clientcert-leaf",
  serialNumber: "x-amzn-mtls-clientcert-serial-number",
  issuer: "x-amzn-mtls-clientcert-issuer",
  subject: "x-amzn-mtls-clientcert-subject",
  validity: "x-amzn-mtls-clientcert-validity",
} as const;

export type MtlsHeaderKey = keyof typeof MTLS_HEADERS;

/** The header names as IGEL's guide and AWS's documentation spell them (for config files). */
export const MTLS_HEADER_DISPLAY: Record<MtlsHeaderKey, string> = {
  clientcert: "X-Amzn-Mtls-Clientcert",
  leaf: "X-Amzn-Mtls-Clientcert-Leaf",
  serialNumber: "X-Amzn-Mtls-Clientcert-Serial-Number",
  issuer: "X-Amzn-Mtls-Clientcert-Issuer",
  subject: "X-Amzn-Mtls-Clientcert-Subject",
  validity: "X-Amzn-Mtls-Clientcert-Validity",
};

/** Every header starting with this is removed from client requests by the emulated ALB. */
export const MTLS_HEADER_PREFIX = "x-amzn-mtls-";

export const FORWARDED_HEADERS = {
  for: "x-forwarded-for",
  proto: "x-forwarded-proto",
  port: "x-forwarded-port",
  traceId: "x-amzn-trace-id",
} as const;
