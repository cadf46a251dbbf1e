import { z } from "zod";
import { STACK_VARIANTS } from "../../core/stack-variants";

/**
 * The ums-edge configuration file (YAML). One file describes every stack to synthesize; paths in
 * it are relative to the file. README.md ("Configuration reference") documents every field.
 */


export const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

const awsId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), { message: `expected an ID like '${prefix}-0123456789abcdef0'` });

const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/, { message: "expected a CIDR block like '203.0.113.0/24'" });

/** The mTLS header names an ALB listener can rename (routing_http_request_x_amzn_mtls_clientcert*_header_name). */
export const headerNamesSchema = z.strictObject({
  clientcert: z.string().min(1).optional(),
  leaf: z.string().min(1).optional(),
  serialNumber: z.string().min(1).optional(),
  issuer: z.string().min(1).optional(),
  subject: z.string().min(1).optional(),
  validity: z.string().min(1).optional(),
});

export const stackSchema = z.strictObject({
  variant: z.enum(STACK_VARIANTS, { message: `unknown variant; expected one of ${STACK_VARIANTS.join(", ")}` }),
  /** Forward only the IGEL paths and answer everything else 404. Default: on for a UMS, off for an ICG. */
  pathAllowList: z.boolean().optional(),
  /** ELB security policy of the HTTPS listeners. */
  sslPolicy: z.string().min(1).optional(),
  /** verify only: accept expired client certificates. */
  ignoreClientCertificateExpiry: z.boolean().optional(),
  /** verify only: advertise the trust store's CA names in the TLS CertificateRequest. */
  advertiseTrustStoreCaNames: z.enum(["on", "off"]).optional(),
  /** Rename the X-Amzn-Mtls-Clientcert* headers the mTLS listener adds. */
  headerNames: headerNamesSchema.optional(),
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
      type: z.string().regex(/^[a-z0-9]+\.[a-z0-9]+$/, { message: "expected an EC2 instance type like 't3.xlarge'" }).default("t3.xlarge"),
      /** EC2 key pair, needed to read the Windows Administrator password. */
      keyName: z.string().min(1).optional(),
      rootVolumeGiB: z.number().int().min(30).max(16384).default(100),
    })
    .prefault({}),
  logs: z
    .strictObject({
      /** Key prefix of access and connection logs in the log bucket. */
      prefix: z.string().regex(/^[a-zA-Z0-9!_.*'()-]+(\/[a-zA-Z0-9!_.*'()-]+)*$/, { message: "expected an S3 key prefix without leading or trailing '/'" }).default("alb"),
    })
    .prefault({}),
  stacks: z.array(stackSchema).min(1, { message: "list at least one stack" }),
});

export type RawConfig = z.infer<typeof configSchema>;
export type RawStack = z.infer<typeof stackSchema>;
export type HeaderNames = z.infer<typeof headerNamesSchema>;
