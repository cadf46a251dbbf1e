import type { Construct } from "constructs";
import { AwsProvider } from "./aws";
import { STACK_VARIANT } from "../core/stack-variants";
import type { EdgeConfig, StackSpec } from "./config/load-config";
import type { BackendInstanceProps } from "./backend-instance";

/** What every stack shares: the provider, resource names, the backend instance's settings. */

export function namePrefixOf(config: EdgeConfig, spec: StackSpec): string {
  return `${config.project}-${STACK_VARIANT[spec.variant].code}`;
}

export function addProvider(stack: Construct, config: EdgeConfig, spec: StackSpec): void {
  new AwsProvider(stack, "aws", {
    region: config.region,
    defaultTags: [{ tags: { Project: config.project, Stack: spec.variant, ManagedBy: "ums-edge" } }],
  });
}

/** The UMS/ICG instance of a stack, admitting 8443 from `admit`. */
export function backendInstanceProps(config: EdgeConfig, spec: StackSpec, admit: BackendInstanceProps["admit"]): BackendInstanceProps {
  return {
    namePrefix: namePrefixOf(config, spec),
    backend: spec.backend,
    vpcId: config.network.vpcId,
    subnetId: config.network.instanceSubnetId,
    instanceType: config.instance.type,
    keyName: config.instance.keyName,
    rootVolumeGiB: config.instance.rootVolumeGiB,
    admit,
  };
}
