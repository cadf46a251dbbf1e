import { Construct, Lb, LbListener, LbListenerRule, LbTargetGroup, LbTargetGroupAttachment, SecurityGroup, VpcSecurityGroupEgressRule, VpcSecurityGroupIngressRule } from "./aws";
import type { ITerraformDependable } from "./aws";
import type { Backend } from "../core/igel";
import { DEVICE_PORT } from "../core/igel";
import { albVariantOf, MtlsMode } from "../core/stack-variants";
import type { MtlsHeaderKey } from "../core/aws-headers";
import { ALB_ATTRIBUTE_DEFAULTS, ALB_ATTRIBUTE_LIMITS, DesyncMitigationMode, MAX_VERIFY_LISTENERS_PER_LOAD_BALANCER, XffHeaderProcessingMode } from "../core/alb-defaults";
import { PathAllowList } from "./path-allow-list";
import { forwardedHeaderOf } from "./forwarding-settings";
import { propsChecker } from "./props-error";

/** The TLS policy of the listeners unless one is given: TLS 1.3 and 1.2, IGEL's guide's choice of TLS 1.3 for proxies. */
export const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** The target group's port: the backend listens where devices would reach it directly. */
export const TARGET_PORT = DEVICE_PORT;


/** The rule refusing a client's own forwarded-certificate header on a listener without mTLS comes first. */
const HEADER_DENY_PRIORITY = 1;

/** Load balancer and target group names: ELB API CreateLoadBalancer / CreateTargetGroup. */
const NAME_LIMIT = 32;
const NAME_PATTERN = /^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$/;

export interface AlbListenerOptions {
  /** TCP port of the HTTPS listener. */
  readonly port: number;
  /** Mutual TLS on this listener: `off`, or the front's `mode` (a backend reads one forwarded header). */
  readonly mtls: MtlsMode | "off";
}

export interface AlbHealthCheckOptions {
  /** @default the backend's path in core/stack-variants.ts: `/info` for a UMS, `/usg/check-status` for an ICG */
  readonly path?: string;
  /** Success codes. @default "200" (IGEL's guide) */
  readonly matcher?: string;
  /** Seconds between checks (5-300). @default 30 */
  readonly intervalSeconds?: number;
  /** Seconds without an answer that count as a failure (2-120, less than the interval). @default 5 */
  readonly timeoutSeconds?: number;
  /** Consecutive successes before a target is healthy (2-10). @default 5 */
  readonly healthyThreshold?: number;
  /** Consecutive failures before a target is unhealthy (2-10). @default 2 */
  readonly unhealthyThreshold?: number;
}

/** Load balancer attributes (ELB user guide, "Load balancer attributes"); every default is AWS's unless it says otherwise. */
export interface AlbAttributes {
  /** Seconds a connection may be idle; devices hold WebSockets through it (1-4000). @default 60 */
  readonly idleTimeoutSeconds?: number;
  /** Seconds a client connection may live whatever its activity (60-604800). @default 3600 */
  readonly clientKeepAliveSeconds?: number;
  /** Refuse `terraform destroy` of the load balancer. @default false */
  readonly deletionProtection?: boolean;
  /** Drop header fields whose names are not valid HTTP tokens. @default true (ums-edge; AWS's default is false) */
  readonly dropInvalidHeaderFields?: boolean;
  /** What the load balancer does with a client's X-Forwarded-For. @default "append" */
  readonly xffHeaderProcessingMode?: XffHeaderProcessingMode;
  /** Add the client's source port to X-Forwarded-For. @default false */
  readonly enableXffClientPort?: boolean;
  /** Forward the client's Host header unchanged. @default false */
  readonly preserveHostHeader?: boolean;
  /** HTTP desync handling (AWS's request classification). @default "defensive" */
  readonly desyncMitigationMode?: DesyncMitigationMode;
}

export interface AlbLogDestination {
  /** The bucket (its policy must let ELB log delivery write under the prefixes). */
  readonly bucket: string;
  /** Key prefix of the access logs. */
  readonly accessPrefix: string;
  /** Key prefix of the connection logs (mTLS handshakes, `tls_verify_status`). */
  readonly connectionPrefix: string;
  /** Health-check logs go here when set. @default none: health-check logs off */
  readonly healthCheckPrefix?: string;
  /** What must exist before the load balancer (AWS checks that it can write when it is created). @default none */
  readonly dependsOn?: ITerraformDependable[];
}

export interface AlbFrontProps {
  /** Prefix of resource names: `<prefix>-alb`, `<prefix>-tg` (AWS limits both to 32 characters). */
  readonly namePrefix: string;
  /** What runs behind: chooses the health-check path and whether the path allow-list is on by default. */
  readonly backend: Backend;
  /** Mutual TLS mode of the front, as the AWS provider spells it. */
  readonly mode: MtlsMode;
  /** The VPC of the load balancer and its target group. */
  readonly vpcId: string;
  /** At least two subnets in different Availability Zones. */
  readonly subnetIds: readonly string[];
  /** Who may connect to the listeners (devices, administrators' browsers). */
  readonly clientCidrs: readonly string[];
  /** ACM certificate of every listener (the UMS web certificate). */
  readonly certificateArn: string;
  /**
   * HTTPS listeners by name.
   * @default the variant's listeners in core/stack-variants.ts: verify `{ mtls: 8443 verify, tls: 443 off }`, passthrough `{ mtls: 8443 passthrough }`
   */
  readonly listeners?: Readonly<Record<string, AlbListenerOptions>>;
  /** Trust store of the verify listeners; required when `mode` is `verify`, not allowed otherwise. @default none */
  readonly trustStoreArn?: string;
  /** ELB security policy of every listener. @default ELBSecurityPolicy-TLS13-1-2-2021-06 */
  readonly sslPolicy?: string;
  /** Forward only IGEL's device and web-app paths (traversal spellings 400, the rest 404). @default on for a UMS, off for an ICG (the variant's) */
  readonly pathAllowList?: boolean;
  /** New names for the `X-Amzn-Mtls-Clientcert*` headers of the mTLS listeners. @default AWS's names */
  readonly headerNames?: Readonly<Partial<Record<MtlsHeaderKey, string>>>;
  /** verify only: accept expired client certificates. @default false */
  readonly ignoreClientCertificateExpiry?: boolean;
  /** verify only: list the trust store's CA names in the TLS CertificateRequest. @default "off" */
  readonly advertiseTrustStoreCaNames?: "on" | "off";
  /** The target group's health check. @default see AlbHealthCheckOptions */
  readonly healthCheck?: AlbHealthCheckOptions;
  /** Load balancer attributes. @default see AlbAttributes */
  readonly attributes?: AlbAttributes;
  /** Where access, connection (and health-check) logs go. */
  readonly logs: AlbLogDestination;
}

const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const HEADER_RENAME_ARGUMENT: Readonly<Record<MtlsHeaderKey, string>> = {
  clientcert: "routingHttpRequestXAmznMtlsClientcertHeaderName",
  leaf: "routingHttpRequestXAmznMtlsClientcertLeafHeaderName",
  serialNumber: "routingHttpRequestXAmznMtlsClientcertSerialNumberHeaderName",
  issuer: "routingHttpRequestXAmznMtlsClientcertIssuerHeaderName",
  subject: "routingHttpRequestXAmznMtlsClientcertSubjectHeaderName",
  validity: "routingHttpRequestXAmznMtlsClientcertValidityHeaderName",
};

/** The listeners a front has: the given map, or its variant's. */
export function listenersOf(props: Pick<AlbFrontProps, "backend" | "mode" | "listeners">): Readonly<Record<string, AlbListenerOptions>> {
  return props.listeners ?? Object.fromEntries(albVariantOf(props.backend, props.mode).listeners.map((l) => [l.name, { port: l.port, mtls: l.mtls }]));
}

function between(value: number | undefined, min: number, max: number): boolean {
  return value === undefined || (Number.isInteger(value) && value >= min && value <= max);
}

/** Prop checks, before anything is built, in the words of the construct's fields and modes. */
export function validateAlbFrontProps(props: AlbFrontProps): void {
  const { check } = propsChecker("AlbFront");
  const { mode } = props;
  const lbName = `${props.namePrefix}-alb`;
  check(NAME_PATTERN.test(props.namePrefix) && !lbName.startsWith("internal-"), "namePrefix", `'namePrefix' '${props.namePrefix}' must be letters, digits and single hyphens, not starting with 'internal-' (ELB load balancer names)`);
  check(lbName.length <= NAME_LIMIT, "namePrefix", `'namePrefix' '${props.namePrefix}' makes the load balancer name '${lbName}' ${lbName.length} characters long; AWS allows at most ${NAME_LIMIT}`);
  check(props.subnetIds.length >= 2, "subnetIds", `'subnetIds' needs at least two subnets in different Availability Zones, got ${props.subnetIds.length}`);
  check(props.clientCidrs.length >= 1, "clientCidrs", "'clientCidrs' is empty: nothing could connect to the listeners");
  check(mode !== "verify" || props.trustStoreArn !== undefined, "trustStoreArn", "You must set 'trustStoreArn' when 'mode' is 'verify'");
  check(mode === "verify" || props.trustStoreArn === undefined, "trustStoreArn", `'trustStoreArn' must not be set when 'mode' is '${mode}'`);
  for (const key of ["ignoreClientCertificateExpiry", "advertiseTrustStoreCaNames"] as const) {
    check(mode === "verify" || props[key] === undefined, key, `'${key}' applies only when 'mode' is 'verify' (it is '${mode}')`);
  }

  const listeners = Object.entries(listenersOf(props));
  check(listeners.length > 0, "listeners", "'listeners' is empty; a load balancer needs at least one listener");
  const ports = new Map<number, string>();
  for (const [name, l] of listeners) {
    check(between(l.port, 1, 65535), `listeners.${name}.port`, `listener '${name}' has 'port' ${l.port}; use 1-65535`);
    check(!ports.has(l.port), `listeners.${name}.port`, `listeners '${ports.get(l.port)}' and '${name}' both use port ${l.port}`);
    ports.set(l.port, name);
    check(l.mtls === "off" || l.mtls === mode, `listeners.${name}.mtls`, `listener '${name}' has 'mtls' '${l.mtls}' but 'mode' is '${mode}'; every mTLS listener of a front uses its 'mode' (the backend reads one forwarded header)`);
  }
  const verify = listeners.filter(([, l]) => l.mtls === "verify").map(([n]) => n);
  check(verify.length <= MAX_VERIFY_LISTENERS_PER_LOAD_BALANCER, "listeners", `'listeners' has ${verify.length} listeners with 'mtls' 'verify' (${verify.join(", ")}); AWS allows at most ${MAX_VERIFY_LISTENERS_PER_LOAD_BALANCER} per load balancer`);
  check(listeners.some(([, l]) => l.mtls !== "off"), "listeners", `no listener has 'mtls' '${mode}'; 'mode' '${mode}' needs at least one`);

  for (const [key, name] of Object.entries(props.headerNames ?? {}) as [MtlsHeaderKey, string][]) {
    check(HEADER_TOKEN.test(name), `headerNames.${key}`, `'headerNames.${key}' '${name}' is not an HTTP header name`);
    const forMode = key === "clientcert" ? "passthrough" : "verify";
    check(forMode === mode, `headerNames.${key}`, `'headerNames.${key}' renames a header a '${mode}' listener does not add (it is a ${forMode} header)`);
  }
  check(props.sslPolicy === undefined || props.sslPolicy.startsWith("ELBSecurityPolicy-"), "sslPolicy", `'sslPolicy' '${props.sslPolicy}' is not an ELB security policy name (ELBSecurityPolicy-...)`);

  const hc = props.healthCheck ?? {};
  check(hc.path === undefined || (hc.path.startsWith("/") && hc.path.length <= 1024), "healthCheck.path", `'healthCheck.path' '${hc.path}' must start with '/' and be at most 1024 characters`);
  check(hc.matcher === undefined || /^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(hc.matcher), "healthCheck.matcher", `'healthCheck.matcher' '${hc.matcher}' is not a list of HTTP codes like 200 or 200-299`);
  check(between(hc.intervalSeconds, 5, 300), "healthCheck.intervalSeconds", `'healthCheck.intervalSeconds' ${hc.intervalSeconds} is outside 5-300`);
  check(between(hc.timeoutSeconds, 2, 120), "healthCheck.timeoutSeconds", `'healthCheck.timeoutSeconds' ${hc.timeoutSeconds} is outside 2-120`);
  check((hc.timeoutSeconds ?? 5) < (hc.intervalSeconds ?? 30), "healthCheck.timeoutSeconds", `'healthCheck.timeoutSeconds' must be less than 'healthCheck.intervalSeconds'`);
  for (const key of ["healthyThreshold", "unhealthyThreshold"] as const) check(between(hc[key], 2, 10), `healthCheck.${key}`, `'healthCheck.${key}' ${hc[key]} is outside 2-10`);

  const a = props.attributes ?? {};
  const { idleTimeoutSeconds: idle, clientKeepAliveSeconds: keepAlive } = ALB_ATTRIBUTE_LIMITS;
  check(between(a.idleTimeoutSeconds, idle.min, idle.max), "attributes.idleTimeoutSeconds", `'attributes.idleTimeoutSeconds' ${a.idleTimeoutSeconds} is outside ${idle.min}-${idle.max}`);
  check(between(a.clientKeepAliveSeconds, keepAlive.min, keepAlive.max), "attributes.clientKeepAliveSeconds", `'attributes.clientKeepAliveSeconds' ${a.clientKeepAliveSeconds} is outside ${keepAlive.min}-${keepAlive.max}`);
}

/**
 * The internet-facing ALB of one IGEL variant: HTTPS listeners (8443 with mTLS, plus 443 without it
 * in verify mode, unless `listeners` says otherwise), the path allow-list, the HTTPS target group
 * with the backend's health check, and the load balancer's attributes written out explicitly.
 */
export class AlbFront extends Construct {
  readonly securityGroup: SecurityGroup;
  readonly loadBalancer: Lb;
  readonly targetGroup: LbTargetGroup;
  /** Listeners by name (`mtls`, `tls` by default). */
  readonly listeners: Readonly<Record<string, LbListener>>;
  private targetCount = 0;

  constructor(scope: Construct, id: string, props: AlbFrontProps) {
    super(scope, id);
    validateAlbFrontProps(props);
    const name = props.namePrefix;
    const variant = albVariantOf(props.backend, props.mode);
    const listenerOptions = listenersOf(props);

    this.securityGroup = new SecurityGroup(this, "sg", { name: `${name}-alb-sg`, description: "ALB: HTTPS from devices", vpcId: props.vpcId, tags: { Name: `${name}-alb-sg` } });
    for (const { port } of Object.values(listenerOptions)) {
      props.clientCidrs.forEach((cidr, i) => {
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

    const a = { ...ALB_ATTRIBUTE_DEFAULTS, dropInvalidHeaderFields: true, ...props.attributes };
    const logs = props.logs;
    this.loadBalancer = new Lb(this, "alb", {
      name: `${name}-alb`,
      loadBalancerType: "application",
      internal: false,
      securityGroups: [this.securityGroup.id],
      subnets: [...props.subnetIds],
      idleTimeout: a.idleTimeoutSeconds,
      clientKeepAlive: a.clientKeepAliveSeconds,
      enableDeletionProtection: a.deletionProtection,
      dropInvalidHeaderFields: a.dropInvalidHeaderFields,
      xffHeaderProcessingMode: a.xffHeaderProcessingMode,
      enableXffClientPort: a.enableXffClientPort,
      preserveHostHeader: a.preserveHostHeader,
      desyncMitigationMode: a.desyncMitigationMode,
      accessLogs: { bucket: logs.bucket, prefix: logs.accessPrefix, enabled: true },
      connectionLogs: { bucket: logs.bucket, prefix: logs.connectionPrefix, enabled: true },
      ...(logs.healthCheckPrefix !== undefined ? { healthCheckLogs: { bucket: logs.bucket, prefix: logs.healthCheckPrefix, enabled: true } } : {}),
      tags: { Name: `${name}-alb` },
      // AWS checks that it can write the logs when the ALB is created.
      dependsOn: logs.dependsOn,
    });

    const hc = props.healthCheck ?? {};
    this.targetGroup = new LbTargetGroup(this, "tg", {
      name: `${name}-tg`,
      port: TARGET_PORT,
      protocol: "HTTPS",
      protocolVersion: "HTTP1",
      targetType: "instance",
      vpcId: props.vpcId,
      // Every threshold explicit: Terraform's defaults for an omitted one differ from the console's.
      healthCheck: {
        enabled: true,
        protocol: "HTTPS",
        port: "traffic-port",
        path: hc.path ?? variant.healthPath,
        matcher: hc.matcher ?? "200",
        interval: hc.intervalSeconds ?? 30,
        timeout: hc.timeoutSeconds ?? 5,
        healthyThreshold: hc.healthyThreshold ?? 5,
        unhealthyThreshold: hc.unhealthyThreshold ?? 2,
      },
      tags: { Name: `${name}-tg` },
    });

    const allowList = props.pathAllowList ?? variant.pathAllowListByDefault;
    const forward = { type: "forward", targetGroupArn: this.targetGroup.arn };
    const notFound = { type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "Not Found" } };
    const listeners: Record<string, LbListener> = {};
    for (const [listenerName, l] of Object.entries(listenerOptions)) {
      const listener = new LbListener(this, `listener-${listenerName}`, {
        loadBalancerArn: this.loadBalancer.arn,
        port: l.port,
        protocol: "HTTPS",
        sslPolicy: props.sslPolicy ?? DEFAULT_SSL_POLICY,
        certificateArn: props.certificateArn,
        defaultAction: [allowList ? notFound : forward],
        ...(l.mtls === "off" ? {} : { mutualAuthentication: this.mutualAuthentication(l.mtls, props), ...headerRenames(props.headerNames) }),
      });
      if (l.mtls === "off") this.refuseForwardedCertificateHeader(listenerName, listener, forwardedHeaderOf(props.mode, props.headerNames)!);
      if (allowList) new PathAllowList(this, `allow-list-${listenerName}`, { listenerArn: listener.arn, targetGroupArn: this.targetGroup.arn });
      listeners[listenerName] = listener;
    }
    this.listeners = listeners;
  }

  /**
   * Registers one backend instance. The first call also opens the ALB's way out to the backends'
   * security group (traffic and health checks on the target port).
   */
  attach(instanceId: string, instanceSecurityGroupId: string): void {
    const n = ++this.targetCount;
    new LbTargetGroupAttachment(this, n === 1 ? "target" : `target-${n}`, { targetGroupArn: this.targetGroup.arn, targetId: instanceId, port: TARGET_PORT });
    if (n > 1) return;
    new VpcSecurityGroupEgressRule(this, "out-backend", {
      securityGroupId: this.securityGroup.id,
      description: `HTTPS ${TARGET_PORT} to the backend (traffic and health checks)`,
      ipProtocol: "tcp",
      fromPort: TARGET_PORT,
      toPort: TARGET_PORT,
      referencedSecurityGroupId: instanceSecurityGroupId,
    });
  }

  /**
   * A listener without mTLS adds no certificate header, so the ALB would forward a client's own
   * (AWS documents removing only the headers it adds itself). The backend reads that header from
   * every request of its target group, so a client sending it there would be taken for any device,
   * above all when the header is renamed away from X-Amzn-Mtls-*. A rule ahead of all others
   * (priority 1; the path allow-list's rules follow) refuses such a request outright.
   */
  private refuseForwardedCertificateHeader(listenerName: string, listener: LbListener, header: string): void {
    new LbListenerRule(this, `deny-cert-header-${listenerName}`, {
      listenerArn: listener.arn,
      priority: HEADER_DENY_PRIORITY,
      condition: [{ httpHeader: { httpHeaderName: header, values: ["*"] } }],
      action: [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "400", messageBody: `${header} is not accepted on this listener` } }],
    });
  }

  private mutualAuthentication(mode: MtlsMode, props: AlbFrontProps) {
    if (mode === "passthrough") return { mode };
    return {
      mode,
      trustStoreArn: props.trustStoreArn!,
      ignoreClientCertificateExpiry: props.ignoreClientCertificateExpiry ?? false,
      advertiseTrustStoreCaNames: props.advertiseTrustStoreCaNames ?? "off",
    };
  }
}

function headerRenames(names: AlbFrontProps["headerNames"] = {}): Record<string, string> {
  return Object.fromEntries((Object.entries(names) as [MtlsHeaderKey, string | undefined][]).flatMap(([key, value]) => (value === undefined ? [] : [[HEADER_RENAME_ARGUMENT[key], value]])));
}
