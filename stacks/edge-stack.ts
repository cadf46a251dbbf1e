import { Construct, TerraformOutput, TerraformStack } from "./aws";
import { LogBucket, LogBucketProps } from "./log-bucket";
import { TrustStore, TrustStoreProps } from "./trust-store";
import { WebCertificate, WebCertificateProps } from "./web-certificate";
import { AlbFront, AlbFrontProps, listenersOf } from "./alb-front";
import { BackendServers, BackendServersProps } from "./backend-servers";
import { applicationYmlFor } from "./forwarding-settings";
import { addProvider, ProviderProps } from "./stack-basics";
import { addStateBackend, StateBackendProps } from "./state-backend";
import { serverOutputs } from "./server-outputs";
import { propsChecker } from "./props-error";

export interface EdgeStackProps {
  /** The stack's name: its directory under `<out>/stacks/`. */
  readonly stackName: string;
  /** The AWS provider: region and the tags every resource gets. */
  readonly provider: ProviderProps;
  /** Where the Terraform state lives. @default local state beside the synth output */
  readonly state?: StateBackendProps;
  /** Prefix of every resource name. */
  readonly namePrefix: string;
  /** The cluster FQDN devices use (in the outputs the UMS settings need). */
  readonly fqdn: string;
  /** The web certificate every listener serves. */
  readonly webCertificate: WebCertificateProps;
  /** The trust store; required when `front.mode` is `verify`, not allowed otherwise. @default none */
  readonly trustStore?: Omit<TrustStoreProps, "namePrefix">;
  /** The load balancer (its names, certificate, trust store and log destination come from this stack). */
  readonly front: Omit<AlbFrontProps, "namePrefix" | "certificateArn" | "trustStoreArn" | "logs">;
  /** The UMS/ICG servers behind it (they admit the backend port from the front only). */
  readonly servers: Omit<BackendServersProps, "namePrefix" | "backend" | "vpcId" | "admit">;
  /** The log bucket. @default see LogBucketProps; health-check logs off */
  readonly logs?: Omit<LogBucketProps, "namePrefix" | "region"> & {
    /** Write the load balancer's health-check logs too. @default false */
    readonly healthCheckLogs?: boolean;
  };
}

/** Prop checks in the words of the stack's fields. */
export function validateEdgeStackProps(props: EdgeStackProps): void {
  const { check } = propsChecker("EdgeStack");
  check(props.front.mode !== "verify" || props.trustStore !== undefined, "trustStore", "You must set 'trustStore' when 'front.mode' is 'verify'");
  check(props.front.mode === "verify" || props.trustStore === undefined, "trustStore", `'trustStore' must not be set when 'front.mode' is '${props.front.mode}'`);
}

/** One ALB variant of the IGEL guide (verify or passthrough) with a UMS or an ICG (or several) behind it. */
export class EdgeStack extends TerraformStack {
  readonly front: AlbFront;
  readonly servers: BackendServers;

  constructor(scope: Construct, props: EdgeStackProps) {
    super(scope, props.stackName);
    validateEdgeStackProps(props);
    addProvider(this, props.provider);
    addStateBackend(this, props.stackName, props.state);
    const prefix = props.namePrefix;

    const logs = new LogBucket(this, "logs", { namePrefix: prefix, region: props.provider.region, prefix: props.logs?.prefix, forceDestroy: props.logs?.forceDestroy });
    const trustStore = props.trustStore ? new TrustStore(this, "trust", { namePrefix: prefix, ...props.trustStore }) : undefined;
    const web = new WebCertificate(this, "web", { name: `${prefix}-web`, ...props.webCertificate });
    this.front = new AlbFront(this, "front", {
      ...props.front,
      namePrefix: prefix,
      certificateArn: web.certificateArn,
      trustStoreArn: trustStore?.trustStore.arn,
      logs: {
        bucket: logs.store.bucket.id,
        accessPrefix: logs.accessPrefix,
        connectionPrefix: logs.connectionPrefix,
        healthCheckPrefix: props.logs?.healthCheckLogs ? logs.healthCheckPrefix : undefined,
        dependsOn: [logs.store.policy],
      },
    });
    const { backend, vpcId } = props.front;
    this.servers = new BackendServers(this, "server", { ...props.servers, namePrefix: prefix, backend, vpcId, admit: { securityGroupId: this.front.securityGroup.id } });
    for (const s of this.servers.servers) this.front.attach(s.instance.id, this.servers.securityGroup.id);

    const fqdn = props.fqdn;
    const listeners = Object.values(listenersOf(props.front));
    const mtls = listeners.find((l) => l.mtls !== "off")!;
    const plain = listeners.find((l) => l.mtls === "off");
    new TerraformOutput(this, "alb_dns_name", { value: this.front.loadBalancer.dnsName, description: `Point ${fqdn} at this name (DNS CNAME or Route 53 alias)` });
    new TerraformOutput(this, "cluster_address", { value: `${fqdn}:${mtls.port}`, description: "UMS > Server Network Settings > Cluster Address" });
    // Verify mode refuses devices without a certificate on the mTLS listener, so they enroll on the plain one.
    if (props.front.mode === "verify" && plain) {
      new TerraformOutput(this, "device_enrollment_address", { value: `${fqdn}:${plain.port}`, description: "UMS > Server Network Settings > OS 12 device enrollment address" });
    }
    if (trustStore) new TerraformOutput(this, "trust_store_arn", { value: trustStore.trustStore.arn });
    serverOutputs(this, backend, this.servers);
    new TerraformOutput(this, "ums_application_yml", {
      value: applicationYmlFor(props.front.mode, props.front.headerNames),
      description: `Client-cert forwarding block for the ${backend.toUpperCase()}'s application.yml${this.servers.servers.length > 1 ? " (every server)" : ""}`,
    });
  }
}
