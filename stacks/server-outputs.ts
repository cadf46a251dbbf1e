import { TerraformOutput } from "./aws";
import type { TerraformStack } from "./aws";
import type { Backend } from "../core/igel";
import type { BackendServers } from "./backend-servers";

/**
 * The servers' outputs: `public_ip` (the first server, as a single-server stack always had) and
 * `servers`, one entry per server with its instance, addresses and subnet.
 */
export function serverOutputs(stack: TerraformStack, backend: Backend, servers: BackendServers): void {
  const product = backend.toUpperCase();
  new TerraformOutput(stack, "public_ip", { value: servers.servers[0].eip.publicIp, description: `Static public IP of the ${product} instance${servers.servers.length > 1 ? " (the first server)" : ""}` });
  new TerraformOutput(stack, "servers", {
    value: servers.servers.map((s) => ({ instance_id: s.instance.id, public_ip: s.eip.publicIp, private_ip: s.instance.privateIp, subnet_id: s.instance.subnetId })),
    description: `Every ${product} server${backend === "ums" ? "; assign the same web certificate to all of them (IGEL guide)" : ""}`,
  });
}
