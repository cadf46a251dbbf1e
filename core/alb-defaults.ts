/**
 * AWS's defaults for the load balancer attributes ums-edge sets, so that the stacks (which write every
 * attribute explicitly) and the stack reader (which falls back to them when a stack omits one) agree
 * on what an omitted attribute means. Sources: ELB user guide, "Application Load Balancers" >
 * "Load balancer attributes" (idle timeout, client keep-alive, desync mitigation, XFF, host header,
 * invalid header fields, deletion protection), and the Terraform AWS provider 6.x `aws_lb` arguments.
 */
export const ALB_ATTRIBUTE_DEFAULTS = {
  /** `idle_timeout`: seconds a connection (a WebSocket too) may stay idle. */
  idleTimeoutSeconds: 60,
  /** `client_keep_alive`: seconds a client connection may live, whatever its activity. */
  clientKeepAliveSeconds: 3600,
  /** `drop_invalid_header_fields`: AWS keeps them (false). */
  dropInvalidHeaderFields: false,
  /** `xff_header_processing_mode`. */
  xffHeaderProcessingMode: "append",
  /** `enable_xff_client_port`. */
  enableXffClientPort: false,
  /** `preserve_host_header`. */
  preserveHostHeader: false,
  /** `desync_mitigation_mode`. */
  desyncMitigationMode: "defensive",
  /** `enable_deletion_protection`. */
  deletionProtection: false,
} as const;

/** The values AWS accepts (same page; the provider validates the same ranges). */
export const ALB_ATTRIBUTE_LIMITS = {
  idleTimeoutSeconds: { min: 1, max: 4000 },
  clientKeepAliveSeconds: { min: 60, max: 604800 },
} as const;

export const XFF_HEADER_PROCESSING_MODES = ["append", "preserve", "remove"] as const;
export type XffHeaderProcessingMode = (typeof XFF_HEADER_PROCESSING_MODES)[number];

export const DESYNC_MITIGATION_MODES = ["monitor", "defensive", "strictest"] as const;
export type DesyncMitigationMode = (typeof DESYNC_MITIGATION_MODES)[number];

/** AWS's quota of listeners using mutual TLS in verify mode per load balancer ("Quotas for your Application Load Balancers" > Trust stores). */
export const MAX_VERIFY_LISTENERS_PER_LOAD_BALANCER = 2;
