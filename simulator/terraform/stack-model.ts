import type { MtlsHeaderKey } from "../../core/aws-headers";
import type { DesyncMitigationMode, XffHeaderProcessingMode } from "../../core/alb-defaults";

/**
 * The typed model of one synthesized stack (`cdk.tf.json`): only what an ALB emulator needs, with
 * every `${resource.name.attr}` reference inside the stack and every asset resolved. Addresses are
 * Terraform's (`aws_lb_listener.front_listener-mtls_029D7A1F`), so messages can name the resource.
 */
export interface StackModel {
  /** The stack's name (`//.metadata.stackName`, else the directory name). */
  readonly name: string;
  /** The stack directory, absolute. */
  readonly dir: string;
  /** Its `cdk.tf.json`, absolute. */
  readonly file: string;
  /** `provider.aws[0].region`, if given literally. */
  readonly region?: string;
  readonly loadBalancer: LoadBalancerModel;
  /** Listeners in port order. */
  readonly listeners: readonly ListenerModel[];
  /** Target groups by address. */
  readonly targetGroups: ReadonlyMap<string, TargetGroupModel>;
}

export interface LoadBalancerModel {
  readonly address: string;
  /** `name` of the aws_lb (or its address' name when unnamed). */
  readonly name: string;
  /** Seconds a connection may stay idle (`idle_timeout`, AWS default 60). */
  readonly idleTimeoutSeconds: number;
  /** Seconds a client connection may live (`client_keep_alive`, AWS default 3600). */
  readonly clientKeepAliveSeconds: number;
  /** `drop_invalid_header_fields` (AWS default false). */
  readonly dropInvalidHeaderFields: boolean;
  /** `xff_header_processing_mode` (AWS default append). */
  readonly xffHeaderProcessingMode: XffHeaderProcessingMode;
  /** `enable_xff_client_port` (AWS default false). */
  readonly enableXffClientPort: boolean;
  /** `preserve_host_header` (AWS default false). */
  readonly preserveHostHeader: boolean;
  /** `desync_mitigation_mode` (AWS default defensive). */
  readonly desyncMitigationMode: DesyncMitigationMode;
  readonly accessLogs: LogSettings;
  readonly connectionLogs: LogSettings;
}

export interface LogSettings {
  readonly enabled: boolean;
  /** The S3 key prefix, without leading or trailing '/'; empty for the bucket root. */
  readonly prefix: string;
}

export type MtlsMode = "off" | "passthrough" | "verify";

export interface ListenerModel {
  readonly address: string;
  readonly port: number;
  readonly protocol: "HTTPS" | "HTTP";
  /** ELB security policy name (HTTPS only). */
  readonly sslPolicy?: string;
  /** Files of the listener's certificate (HTTPS only). */
  readonly certificate?: CertificateModel;
  /** The ARN of a certificate outside the stack, instead of `certificate` (only with `certificateOutsideStack`). */
  readonly certificateArn?: string;
  readonly mutualAuthentication: MutualAuthenticationModel;
  /** Effective header names (renamed or AWS's), lower-case, by header key. */
  readonly headerNames: Readonly<Record<MtlsHeaderKey, string>>;
  /** Rules in evaluation order (ascending priority). */
  readonly rules: readonly RuleModel[];
  readonly defaultActions: readonly ActionModel[];
}

export interface CertificateModel {
  /** The aws_acm_certificate the listener names. */
  readonly address: string;
  /** PEM file of the certificate (`certificate_body`). */
  readonly bodyFile: string;
  /** PEM file of the private key. */
  readonly privateKeyFile: string;
  /** PEM file of the intermediates (`certificate_chain`), if any. */
  readonly chainFile?: string;
}

export interface MutualAuthenticationModel {
  readonly mode: MtlsMode;
  /** verify only. */
  readonly trustStore?: TrustStoreModel;
  readonly ignoreClientCertificateExpiry: boolean;
  readonly advertiseTrustStoreCaNames: "on" | "off";
}

export interface TrustStoreModel {
  readonly address: string;
  /** The CA bundle (PEM), from the aws_s3_object the trust store names. */
  readonly caBundleFile: string;
  /** CRL files (PEM) of the trust store's aws_lb_trust_store_revocation resources. */
  readonly revocationFiles: readonly string[];
}

export interface RuleModel {
  readonly address: string;
  readonly priority: number;
  readonly conditions: readonly ConditionModel[];
  readonly actions: readonly ActionModel[];
}

/**
 * A rule matches when every condition matches; a condition matches when any of its values does.
 * A path pattern's `regexValues` are regular expressions (`regex_values`, AWS provider >= 6.22).
 */
export type ConditionModel =
  | { readonly kind: "path-pattern"; readonly values: readonly string[]; readonly regexValues?: readonly string[] }
  | { readonly kind: "host-header"; readonly values: readonly string[] }
  | { readonly kind: "http-request-method"; readonly values: readonly string[] }
  | { readonly kind: "http-header"; readonly name: string; readonly values: readonly string[] };

export type ActionModel =
  | { readonly type: "forward"; readonly targetGroup: string }
  | { readonly type: "fixed-response"; readonly statusCode: number; readonly contentType: string; readonly messageBody: string };

export interface TargetGroupModel {
  readonly address: string;
  readonly name: string;
  readonly protocol: "HTTPS" | "HTTP";
  readonly port: number;
  readonly healthCheck: HealthCheckModel;
  /** Registered targets (aws_lb_target_group_attachment). */
  readonly targets: readonly TargetAttachmentModel[];
}

export interface HealthCheckModel {
  readonly enabled: boolean;
  readonly protocol: "HTTPS" | "HTTP";
  readonly path: string;
  /** `traffic-port` or a port number. */
  readonly port: "traffic-port" | number;
  /** Success codes: "200", "200,202", "200-299". */
  readonly matcher: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export interface TargetAttachmentModel {
  readonly address: string;
  /** As written in the stack (usually a reference to an instance: the emulator is told where it is). */
  readonly targetId: string;
  readonly port?: number;
}
