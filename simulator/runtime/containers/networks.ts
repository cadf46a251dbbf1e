import { randomBytes } from "node:crypto";
import { StartedNetwork } from "testcontainers";
import { connectEngine } from "./engine";

/**
 * Docker networks that mirror a topology's subnets. testcontainers' `new Network()` is never
 * internal; the UMS side needs a network with no route out and none in from other networks
 * (Docker's `--internal`), so it is created through the runtime client. Containers join it by
 * name (`withNetworkMode`), never with network aliases: testcontainers then also attaches the
 * default bridge, which would make the UMS reachable from the devices' side.
 */

export interface ContainerNetworkOptions {
  /** The network's name. @default `ums-edge-<random>` */
  readonly name?: string;
  /** No route to or from other networks (the UMS side of a topology). @default false */
  readonly internal?: boolean;
  /** Labels, e.g. to find a run's networks when cleaning up. @default { "ums-edge": "true" } */
  readonly labels?: Readonly<Record<string, string>>;
}

export const UMS_EDGE_LABEL = "ums-edge";

export function randomSuffix(bytes = 3): string {
  return randomBytes(bytes).toString("hex");
}

/** A bridge network, internal or not, as a testcontainers `StartedNetwork` (`getName()`, `stop()`). */
export class ContainerNetwork {
  constructor(private readonly options: ContainerNetworkOptions = {}) {}

  async start(): Promise<StartedContainerNetwork> {
    const client = await connectEngine();
    const name = this.options.name ?? `ums-edge-${randomSuffix()}`;
    const internal = this.options.internal ?? false;
    const network = await client.network.create({ Name: name, Driver: "bridge", Internal: internal, CheckDuplicate: true, Labels: { [UMS_EDGE_LABEL]: "true", ...this.options.labels } });
    const info = (await client.network.getById(name).inspect()) as { IPAM?: { Config?: Array<{ Gateway?: string }> } };
    return new StartedContainerNetwork(client, name, network, internal, info.IPAM?.Config?.[0]?.Gateway ?? "");
  }
}

export class StartedContainerNetwork extends StartedNetwork {
  constructor(
    client: ConstructorParameters<typeof StartedNetwork>[0],
    name: string,
    network: ConstructorParameters<typeof StartedNetwork>[2],
    private readonly internal: boolean,
    private readonly gateway: string,
  ) {
    super(client, name, network);
  }

  /** The engine host's address on this network: where its containers reach a process on that host. */
  getGateway(): string {
    return this.gateway;
  }

  /** True for a network with no route to or from others (`docker network create --internal`). */
  isInternal(): boolean {
    return this.internal;
  }
}

/** A network given by name or as a started network. */
export type NetworkRef = string | StartedNetwork;

export function networkName(ref: NetworkRef): string {
  return typeof ref === "string" ? ref : ref.getName();
}
