import { z } from "zod";
import { STACK_VARIANTS } from "../../core/stack-variants";
import { ALB_ATTRIBUTE_LIMITS, DESYNC_MITIGATION_MODES, XFF_HEADER_PROCESSING_MODES } from "../../core/alb-defaults";

/**
 * The ums-edge configuration file (YAML). One file describes every stack to synthesize; paths in
 * it are relative to the file. README.md ("Configuration reference") documents every field; the
 * defaults of what is left out are the constructs' (stacks/*.ts, `@default`).
 */

const awsId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), { message: `expected an ID like '${prefix}-0123456789abcdef0'` });

const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/, { message: "expected a CIDR block like '203.0.113.0/24'" });

const int = (min: number, max: number) => z.number().int({ message: "expected a whole number" }).min(min).max(max);

/** The mTLS header names an ALB listener can rename (routing_http_request_x_amzn_mtls_clientcert*_header_name). */
export const headerNamesSchema = z.strictObject({
  clientcert: z.string().min(1).optional(),
  leaf: z.string().min(1).optional(),
  serialNumber: z.string().min(1).optional(),
  issuer: z.string().min(1).optional(),
  subject: z.string().min(1).optional(),
  validity: z.string().min(1).optional(),
});

/** A listener of the variant (`mtls`, `tls`: its port may change) or an extra one (port and mtls required). */
export const listenerSchema = z.strictObject({
  port: int(1, 65535).optional(),
  mtls: z.enum(["off", "passthrough", "verify"]).optional(),
});

/** Load balancer attributes (ELB user guide, "Load balancer attributes"). */
export const loadBalancerSchema = z.strictObject({
  idleTimeoutSeconds: int(ALB_ATTRIBUTE_LIMITS.idleTimeoutSeconds.min, ALB_ATTRIBUTE_LIMITS.idleTimeoutSeconds.max).optional(),
  clientKeepAliveSeconds: int(ALB_ATTRIBUTE_LIMITS.clientKeepAliveSeconds.min, ALB_ATTRIBUTE_LIMITS.clientKeepAliveSeconds.max).optional(),
  deletionProtection: z.boolean().optional(),
  dropInvalidHeaderFields: z.boolean().optional(),
  xffHeaderProcessingMode: z.enum(XFF_HEADER_PROCESSING_MODES).optional(),
  enableXffClientPort: z.boolean().optional(),
  preserveHostHeader: z.boolean().optional(),
  desyncMitigationMode: z.enum(DESYNC_MITIGATION_MODES).optional(),
});

/** The target group's health check (ELB user guide, "Health checks for Application Load Balancer target groups"). */
export const healthCheckSchema = z.strictObject({
  path: z.string().regex(/^\/\S{0,1023}$/, { message: "expected a path starting with '/'" }).optional(),
  matcher: z.string().regex(/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/, { message: "expected HTTP codes like '200' or '200-299'" }).optional(),
  intervalSeconds: int(5, 300).optional(),
  timeoutSeconds: int(2, 120).optional(),
  healthyThreshold: int(2, 10).optional(),
  unhealthyThreshold: int(2, 10).optional(),
});

export const stackSchema = z.strictObject({
  variant: z.enum(STACK_VARIANTS, { message: `unknown variant; expected one of ${STACK_VARIANTS.join(", ")}` }),
  /** Forward only the IGEL paths and answer everything else 404. Default: on for a UMS, off for an ICG. */
  pathAllowList: z.boolean().optional(),
  /** ELB security policy of the HTTPS listeners. */
  sslPolicy: z.string().regex(/^ELBSecurityPolicy-[A-Za-z0-9-]+$/, { message: "expected an ELB security policy name like 'ELBSecurityPolicy-TLS13-1-2-2021-06'" }).optional(),
  /** verify only: accept expired client certificates. */
  ignoreClientCertificateExpiry: z.boolean().optional(),
  /** verify only: advertise the trust store's CA names in the TLS CertificateRequest. */
  advertiseTrustStoreCaNames: z.enum(["on", "off"]).optional(),
  /** Rename the X-Amzn-Mtls-Clientcert* headers the mTLS listener adds. */
  headerNames: headerNamesSchema.optional(),
  /** Listener ports, or extra listeners, by name. */
  listeners: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, { message: "expected a listener name like 'mtls' or 'admin-8444'" }), listenerSchema).optional(),
  loadBalancer: loadBalancerSchema.optional(),
  healthCheck: healthCheckSchema.optional(),
});

export const configSchema = z.strictObject({
  /** Prefix of every AWS resource name: lowercase letters, digits and hyphens. */
  project: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,18}[a-z0-9]$/, { message: "expected 3-20 lowercase letters, digits or hyphens, starting with a letter" }),
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: "expected an AWS region like 'eu-central-1'" }),
  network: z.strictObject({
    vpcId: awsId("vpc"),
    /** Public subnets for the ALB, in at least two Availability Zones. */
    albSubnetIds: z.array(awsId("subnet")).optional(),
    /** Subnet of the UMS/ICG instance. Default: the first ALB subnet. */
    instanceSubnetId: awsId("subnet").optional(),
    /** Where devices (and administrators' browsers) connect from. */
    deviceCidrs: z.array(cidr).min(1, { message: "list at least one CIDR block" }),
  }),
  cluster: z.strictObject({
    /** The UMS cluster address: the FQDN devices use, pointed at the ALB by your DNS, in the web certificate. */
    fqdn: z.string().regex(/^(?=.{4,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i, { message: "expected a fully qualified domain name like 'ums.example.com'" }),
  }),
  certificates: z.strictObject({
    /** A lab PKI directory (created by `ums-edge pki init` if missing) instead of the files below. */
    labPki: z.string().min(1).optional(),
    /** UMS > Server Network Settings > Export Client Certificate Chain (PEM). */
    clientCaChain: z.string().min(1).optional(),
    /** Optional CRL (PEM) for the trust store. */
    crl: z.string().min(1).optional(),
    /** The web certificate as exported from the UMS keystore (IGEL guide). */
    web: z
      .strictObject({
        privateKey: z.string().min(1),
        headOnlyBody: z.string().min(1),
        entireChain: z.string().min(1),
      })
      .optional(),
    /** An ACM certificate already imported, instead of `web`. */
    webCertificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, { message: "expected an ACM certificate ARN" })
      .optional(),
  }),
  instance: z
    .strictObject({
      type: z.string().regex(/^[a-z0-9]+\.[a-z0-9]+$/, { message: "expected an EC2 instance type like 't3.xlarge'" }).optional(),
      /** EC2 key pair, needed to read the Windows Administrator password. */
      keyName: z.string().min(1).optional(),
      rootVolumeGiB: int(30, 16384).optional(),
      /** UMS servers (or ICGs) behind each load balancer, spread over the ALB subnets. */
      count: int(1, 1000).optional(),
      /** Administrators' networks: RDP 3389 to a UMS, SSH 22 to an ICG. */
      adminCidrs: z.array(cidr).optional(),
      /** An instance profile for AWS Systems Manager (Session Manager). */
      ssm: z.boolean().optional(),
    })
    .optional(),
  logs: z
    .strictObject({
      /** Key prefix of access and connection logs in the log bucket. */
      prefix: z.string().regex(/^[a-zA-Z0-9!_.*'()-]+(\/[a-zA-Z0-9!_.*'()-]+)*$/, { message: "expected an S3 key prefix without leading or trailing '/'" }).optional(),
      /** Let `terraform destroy` delete the log bucket with its logs. */
      forceDestroy: z.boolean().optional(),
      /** Write the load balancers' health-check logs too. */
      healthCheckLogs: z.boolean().optional(),
    })
    .optional(),
  state: z
    .strictObject({
      /** Remote state in S3 (with S3's own lock file). */
      s3: z
        .strictObject({
          bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "expected an S3 bucket name" }),
          key: z.string().regex(/^[^/]+(\/[^/]+)*$/, { message: "expected an S3 key prefix without leading or trailing '/'" }),
          region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: "expected an AWS region like 'eu-central-1'" }),
        })
        .optional(),
    })
    .optional(),
  devices: z
    .strictObject({
      /** How often your devices send a heartbeat on their WebSocket (IGEL does not publish it). */
      heartbeatSeconds: int(1, 86400).optional(),
    })
    .optional(),
  stacks: z.array(stackSchema).min(1, { message: "list at least one stack" }),
});

export type RawConfig = z.infer<typeof configSchema>;
export type RawStack = z.infer<typeof stackSchema>;
export type HeaderNames = z.infer<typeof headerNamesSchema>;
export type LoadBalancerOptions = z.infer<typeof loadBalancerSchema>;
export type HealthCheckOptions = z.infer<typeof healthCheckSchema>;
