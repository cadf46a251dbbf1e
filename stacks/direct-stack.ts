import { Construct, TerraformOutput, TerraformStack } from "./aws";
import { BackendServers, BackendServersProps, BACKEND_PORT } from "./backend-servers";
import { addProvider, ProviderProps } from "./stack-basics";
import { addStateBackend, StateBackendProps } from "./state-backend";
import { applicationYmlFor } from "./forwarding-settings";
import { serverOutputs } from "./server-outputs";
import { propsChecker } from "./props-error";

export interface DirectStackProps {
  /** The stack's name: its directory under `<out>/stacks/`. */
  readonly stackName: string;
  /** The AWS provider: region and the tags every resource gets. */
  readonly provider: ProviderProps;
  /** Where the Terraform state lives. @default local state beside the synth output */
  readonly state?: StateBackendProps;
  /** Prefix of every resource name. */
  readonly namePrefix: string;
  /** The cluster FQDN devices use. */
  readonly fqdn: string;
  /** The UMS server; it admits the backend port from `clientCidrs`. */
  readonly server: Omit<BackendServersProps, "namePrefix" | "backend" | "admit">;
  /** Where devices connect from. */
  readonly clientCidrs: readonly string[];
}

/** Prop checks in the words of the stack's fields. */
export function validateDirectStackProps(props: DirectStackProps): void {
  const { check } = propsChecker("DirectStack");
  check((props.server.count ?? 1) === 1, "server.count", "'server.count' must be 1: without a load balancer devices reach one server");
}

/** `ums-direct`: devices talk to the UMS on 8443 with no load balancer in between. */
export class DirectStack extends TerraformStack {
  constructor(scope: Construct, props: DirectStackProps) {
    super(scope, props.stackName);
    validateDirectStackProps(props);
    addProvider(this, props.provider);
    addStateBackend(this, props.stackName, props.state);
    const servers = new BackendServers(this, "server", { ...props.server, namePrefix: props.namePrefix, backend: "ums", admit: { cidrs: props.clientCidrs } });
    serverOutputs(this, "ums", servers);
    new TerraformOutput(this, "cluster_address", { value: `${props.fqdn}:${BACKEND_PORT}`, description: `Point ${props.fqdn} at public_ip` });
    new TerraformOutput(this, "ums_application_yml", { value: applicationYmlFor(undefined), description: "No forwarding: the UMS terminates TLS itself" });
  }
}
