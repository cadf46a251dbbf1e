import { Construct } from "constructs";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { EdgeConfig, StackSpec } from "./config/load-config";
import { LogBucket } from "./log-bucket";
import { TrustStore } from "./trust-store";
import { WebCertificate } from "./web-certificate";
import { AlbFront } from "./alb-front";
import { MTLS_PORT, TLS_PORT } from "../core/stack-variants";
import { BackendInstance } from "./backend-instance";
import { applicationYmlFor } from "./forwarding-settings";
import { addProvider, backendInstanceProps, namePrefixOf } from "./stack-basics";

/** One ALB variant of the IGEL guide (verify or passthrough) with a UMS or an ICG behind it. */
export class EdgeStack extends TerraformStack {
  constructor(scope: Construct, config: EdgeConfig, spec: StackSpec) {
    super(scope, spec.variant);
    if (!spec.mtlsMode) throw new Error(`EdgeStack: '${spec.variant}' has no ALB; use DirectStack`);
    addProvider(this, config, spec);
    const prefix = namePrefixOf(config, spec);

    const logs = new LogBucket(this, "logs", { namePrefix: prefix, region: config.region, prefix: config.logs.prefix });
    const trustStore =
      spec.mtlsMode === "verify"
        ? new TrustStore(this, "trust", { namePrefix: prefix, caBundleFile: config.certificates.clientCaChain!, crlFile: config.certificates.crl })
        : undefined;
    const web = new WebCertificate(this, "web", {
      files: config.certificates.web,
      existingArn: config.certificates.webCertificateArn,
      name: `${prefix}-web`,
    });
    const front = new AlbFront(this, "front", {
      namePrefix: prefix,
      spec,
      vpcId: config.network.vpcId,
      subnetIds: config.network.albSubnetIds,
      deviceCidrs: config.network.deviceCidrs,
      certificateArn: web.certificateArn,
      trustStoreArn: trustStore?.trustStore.arn,
      logs: {
        bucket: logs.store.bucket.id,
        accessPrefix: logs.accessPrefix,
        connectionPrefix: logs.connectionPrefix,
        dependsOn: [logs.store.policy],
      },
    });
    const backend = new BackendInstance(this, "server", backendInstanceProps(config, spec, { securityGroupId: front.securityGroup.id }));
    front.attach(backend.instance.id, backend.securityGroup.id);

    const fqdn = config.cluster.fqdn;
    new TerraformOutput(this, "alb_dns_name", { value: front.loadBalancer.dnsName, description: `Point ${fqdn} at this name (DNS CNAME or Route 53 alias)` });
    new TerraformOutput(this, "cluster_address", { value: `${fqdn}:${MTLS_PORT}`, description: "UMS > Server Network Settings > Cluster Address" });
    if (spec.mtlsMode === "verify") {
      new TerraformOutput(this, "device_enrollment_address", { value: `${fqdn}:${TLS_PORT}`, description: "UMS > Server Network Settings > OS 12 device enrollment address" });
      new TerraformOutput(this, "trust_store_arn", { value: trustStore!.trustStore.arn });
    }
    new TerraformOutput(this, "public_ip", { value: backend.eip.publicIp, description: `Static public IP of the ${spec.backend.toUpperCase()} instance` });
    new TerraformOutput(this, "ums_application_yml", {
      value: applicationYmlFor(spec),
      description: `Client-cert forwarding block for the ${spec.backend.toUpperCase()}'s application.yml`,
    });
  }
}
