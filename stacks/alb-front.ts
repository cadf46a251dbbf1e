import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { Lb, LbListener, LbListenerRule, LbTargetGroup, LbTargetGroupAttachment, SecurityGroup, VpcSecurityGroupEgressRule, VpcSecurityGroupIngressRule } from "./aws";
import type { StackSpec } from "./config/load-config";
import { ALLOWED_PATH_PATTERNS, HEALTH_CHECK_PATH } from "../core/igel";
import { MTLS_PORT, TLS_PORT } from "../core/stack-variants";
import { BACKEND_PORT } from "./backend-instance";
import { forwardedHeaderOf } from "./forwarding-settings";


export interface AlbFrontProps {
  /** Prefix of resource names (ALB and target group names are limited to 32 characters). */
  readonly namePrefix: string;
  /** The stack: mTLS mode, backend, allow-list, TLS policy, header names. */
  readonly spec: StackSpec;
  readonly vpcId: string;
  /** At least two subnets in different Availability Zones. */
  readonly subnetIds: readonly string[];
  /** Who may connect to the listeners. */
  readonly deviceCidrs: readonly string[];
  /** ACM certificate of both listeners (the UMS web certificate). */
  readonly certificateArn: string;
  /** Required when the spec's mode is 'verify'. */
  readonly trustStoreArn?: string;
  /** Bucket and prefixes of access and connection logs. */
  readonly logs: { readonly bucket: string; readonly accessPrefix: string; readonly connectionPrefix: string; readonly dependsOn: ITerraformDependable[] };
}

/**
 * The internet-facing ALB of one IGEL variant: listeners (8443 with mTLS, plus 443 without it in
 * verify mode), the path allow-list, the HTTPS target group with the backend's health check.
 */
export class AlbFront extends Construct {
  readonly securityGroup: SecurityGroup;
  readonly loadBalancer: Lb;
  readonly targetGroup: LbTargetGroup;
  /** Listeners by name: `mtls` (8443) and, in verify mode, `tls` (443). */
  readonly listeners: Readonly<Record<string, LbListener>>;

  constructor(scope: Construct, id: string, props: AlbFrontProps) {
    super(scope, id);
    validateAlbFrontProps(props);
    const { spec } = props;
    const name = props.namePrefix;

    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${name}-alb-sg`,
      description: "ALB: HTTPS from devices",
      vpcId: props.vpcId,
      tags: { Name: `${name}-alb-sg` },
    });
    const ports = spec.mtlsMode === "verify" ? [MTLS_PORT, TLS_PORT] : [MTLS_PORT];
    for (const port of ports) {
      props.deviceCidrs.forEach((cidr, i) => {
        new VpcSecurityGroupIngressRule(this, `in-${port}-${i}`, {
          securityGroupId: this.securityGroup.id,
          description: `HTTPS ${port} from devices`,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          ...(cidr.includes(":") ? { cidrIpv6: cidr } : { cidrIpv4: cidr }),
        });
      });
    }

    this.loadBalancer = new Lb(this, "alb", {
      name: `${name}-alb`,
      loadBalancerType: "application",
      internal: false,
      securityGroups: [this.securityGroup.id],
      subnets: [...props.subnetIds],
      dropInvalidHeaderFields: true,
      accessLogs: { bucket: props.logs.bucket, prefix: props.logs.accessPrefix, enabled: true },
      connectionLogs: { bucket: props.logs.bucket, prefix: props.logs.connectionPrefix, enabled: true },
      tags: { Name: `${name}-alb` },
      // AWS checks that it can write the logs when the ALB is created.
      dependsOn: props.logs.dependsOn,
    });

    const healthPath = HEALTH_CHECK_PATH[spec.backend];
    this.targetGroup = new LbTargetGroup(this, "tg", {
      name: `${name}-tg`,
      port: BACKEND_PORT,
      protocol: "HTTPS",
      protocolVersion: "HTTP1",
      targetType: "instance",
      vpcId: props.vpcId,
      healthCheck: {
        enabled: true,
        protocol: "HTTPS",
        port: "traffic-port",
        path: healthPath,
        matcher: "200",
        interval: 30,
        timeout: 5,
        healthyThreshold: 5,
        unhealthyThreshold: 2,
      },
      tags: { Name: `${name}-tg` },
    });

    const listeners: Record<string, LbListener> = {
      mtls: this.listener("mtls", MTLS_PORT, props, {
        mutualAuthentication:
          spec.mtlsMode === "verify"
            ? {
                mode: "verify",
                trustStoreArn: props.trustStoreArn!,
                ignoreClientCertificateExpiry: spec.ignoreClientCertificateExpiry,
                advertiseTrustStoreCaNames: spec.advertiseTrustStoreCaNames,
              }
            : { mode: "passthrough" },
        ...headerRenames(spec),
      }),
    };
    // Verify mode refuses devices without a certificate on 8443, so onboarding and the web app use 443.
    if (spec.mtlsMode === "verify") {
      listeners.tls = this.listener("tls", TLS_PORT, props, {});
      this.refuseForwardedCertificateHeader(listeners.tls, forwardedHeaderOf(spec)!);
    }
    this.listeners = listeners;
  }

  /**
   * 443 has no mTLS, so the ALB adds no certificate header there and would forward a client's own
   * (AWS documents removing only the headers it adds itself). The backend reads that header from
   * every request of its target group, so a client sending it on 443 would be taken for any device,
   * above all when the header is renamed away from X-Amzn-Mtls-*. A rule ahead of the others refuses
   * such a request outright.
   */
  private refuseForwardedCertificateHeader(listener: LbListener, header: string): void {
    new LbListenerRule(this, "deny-cert-header-tls", {
      listenerArn: listener.arn,
      priority: 1,
      condition: [{ httpHeader: { httpHeaderName: header, values: ["*"] } }],
      action: [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "400", messageBody: `${header} is not accepted on this listener` } }],
    });
  }

  /** Registers the backend instance and opens the ALB's way out to it. */
  attach(instanceId: string, instanceSecurityGroupId: string): void {
    new LbTargetGroupAttachment(this, "target", { targetGroupArn: this.targetGroup.arn, targetId: instanceId, port: BACKEND_PORT });
    new VpcSecurityGroupEgressRule(this, "out-backend", {
      securityGroupId: this.securityGroup.id,
      description: "HTTPS 8443 to the backend (traffic and health checks)",
      ipProtocol: "tcp",
      fromPort: BACKEND_PORT,
      toPort: BACKEND_PORT,
      referencedSecurityGroupId: instanceSecurityGroupId,
    });
  }

  private listener(id: string, port: number, props: AlbFrontProps, extra: Partial<ConstructorParameters<typeof LbListener>[2]>): LbListener {
    const forward = { type: "forward", targetGroupArn: this.targetGroup.arn };
    const notFound = { type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "Not Found" } };
    const listener = new LbListener(this, `listener-${id}`, {
      loadBalancerArn: this.loadBalancer.arn,
      port,
      protocol: "HTTPS",
      sslPolicy: props.spec.sslPolicy,
      certificateArn: props.certificateArn,
      defaultAction: [props.spec.pathAllowList ? notFound : forward],
      ...extra,
    });
    if (props.spec.pathAllowList) {
      // One rule: ALB allows five values per condition; the IGEL allow-list has four.
      new LbListenerRule(this, `allow-${id}`, {
        listenerArn: listener.arn,
        priority: 10,
        condition: [{ pathPattern: { values: [...ALLOWED_PATH_PATTERNS] } }],
        action: [forward],
      });
    }
    return listener;
  }
}

function headerRenames(spec: StackSpec): Record<string, string> {
  const h = spec.headerNames;
  const renames: Record<string, string | undefined> = {
    routingHttpRequestXAmznMtlsClientcertHeaderName: h.clientcert,
    routingHttpRequestXAmznMtlsClientcertLeafHeaderName: h.leaf,
    routingHttpRequestXAmznMtlsClientcertSerialNumberHeaderName: h.serialNumber,
    routingHttpRequestXAmznMtlsClientcertIssuerHeaderName: h.issuer,
    routingHttpRequestXAmznMtlsClientcertSubjectHeaderName: h.subject,
    routingHttpRequestXAmznMtlsClientcertValidityHeaderName: h.validity,
  };
  return Object.fromEntries(Object.entries(renames).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Prop checks in the words of the construct's fields and modes. */
export function validateAlbFrontProps(props: AlbFrontProps): void {
  const mode = props.spec.mtlsMode;
  if (!mode) throw new Error(`AlbFront: '${props.spec.variant}' has no mTLS mode; it has no ALB`);
  if (mode === "verify" && !props.trustStoreArn) throw new Error("AlbFront: you must set 'trustStoreArn' when 'mode' is 'verify'");
  if (mode === "passthrough" && props.trustStoreArn) throw new Error("AlbFront: 'trustStoreArn' must not be set when 'mode' is 'passthrough'");
  if (props.subnetIds.length < 2) throw new Error(`AlbFront: 'subnetIds' needs at least two subnets, got ${props.subnetIds.length}`);
  if (props.namePrefix.length > 28) throw new Error(`AlbFront: 'namePrefix' '${props.namePrefix}' is longer than 28 characters (ALB names are limited to 32)`);
}
