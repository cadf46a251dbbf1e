import { Construct } from "constructs";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { EdgeConfig, StackSpec } from "./config/load-config";
import { BackendInstance, BACKEND_PORT } from "./backend-instance";
import { addProvider, backendInstanceProps } from "./stack-basics";
import { applicationYmlFor } from "./forwarding-settings";

/** `ums-direct`: devices talk to the UMS on 8443 with no load balancer in between. */
export class DirectStack extends TerraformStack {
  constructor(scope: Construct, config: EdgeConfig, spec: StackSpec) {
    super(scope, spec.variant);
    if (spec.mtlsMode) throw new Error(`DirectStack: '${spec.variant}' has an ALB; use EdgeStack`);
    addProvider(this, config, spec);
    const backend = new BackendInstance(this, "server", backendInstanceProps(config, spec, { cidrs: config.network.deviceCidrs }));
    new TerraformOutput(this, "public_ip", { value: backend.eip.publicIp, description: "Static public IP of the UMS instance" });
    new TerraformOutput(this, "cluster_address", { value: `${config.cluster.fqdn}:${BACKEND_PORT}`, description: `Point ${config.cluster.fqdn} at public_ip` });
    new TerraformOutput(this, "ums_application_yml", { value: applicationYmlFor(spec), description: "No forwarding: the UMS terminates TLS itself" });
  }
}
