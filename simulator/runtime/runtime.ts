import type { NetworkSide, SecurityGroupLayout } from "./security-groups/model";
import type { ComponentHandle, Spawner } from "./component-process";
import { hostSpawner } from "./component-process";
import { launch, ComponentKind, ProcessOptions, ReadyLine } from "./launch";
import { NginxReverseProxy, NginxReverseProxyOptions } from "../proxy/nginx-reverse-proxy";
import { DEVICE_PORT } from "../../core/igel";
import type { StartedNetnsLab, TcpProbeResult } from "./netns/netns-lab";
import { NetnsLab } from "./netns/netns-lab";
import { netnsAvailability, NETNS_FIX } from "./netns/preflight";
import { cleanupStale } from "./netns/cleanup";
import { DEFAULT_NETNS_PREFIX } from "./netns/names";
import { UserError } from "../../core/errors";
import { ImiClient, ImiClientOptions } from "../ums/imi-client";
import { AdminRelay, RelayedImiClient } from "./admin-channel";

/**
 * Where a topology's components run. Sides follow design section 1: devices on the internet side,
 * the front (ALB, reverse proxy, ICG) on the public side, the UMS on the private side.
 */
export interface Runtime {
  readonly name: "loopback" | "netns" | "containers";
  /** One line for the report: which runtime ran, and how. */
  describe(): string;
  /** What this runtime cannot prove (shown in the report beside the runtime); empty when it proves everything. */
  readonly notProved: readonly string[];
  /** The address components on `side` listen on and are reached at. */
  address(side: NetworkSide): string;
  /** The port a component listening on `real` gets: the real one where each side is its own host, any free one (0) where all share an address. */
  port(real: number): number;
  /** Starts a component on `side` from its options (host, ports and files as this machine sees them). */
  start<K extends ComponentKind>(kind: K, options: ProcessOptions[K], placement: Placement): Promise<ComponentHandle<ReadyLine[K]>>;
  /** Starts the nginx reverse proxy on `side` (host and port from the runtime). */
  startReverseProxy(options: Omit<NginxReverseProxyOptions, "host" | "port" | "commandPrefix">, placement: Placement): Promise<ReverseProxyHandle>;
  /** Applies a topology's security groups; undefined lifts them. No-op where the runtime cannot isolate. */
  isolate(layout: SecurityGroupLayout | undefined): Promise<void>;
  /** A TCP connect from `side`; undefined where the runtime cannot isolate (everything would connect). */
  probe(from: NetworkSide, host: string, port: number): Promise<TcpProbeResult | undefined>;
  /** True when security groups really are enforced between the sides. */
  readonly isolated: boolean;
  /**
   * True when running components read the lab's files where they lie on this machine, so a file
   * changed here (a renewed certificate, a new CRL) reaches them; false where each got a copy at start.
   */
  readonly seesFileChanges: boolean;
  /** How many topologies may run at once (their components cannot collide). @default 1 */
  readonly topologiesAtOnce?: number;
  /** An IMI client from the admin's vantage point: the UMS's own side (its network, or the instance itself). */
  adminClient(options: ImiClientOptions, side: NetworkSide): Promise<ImiClient>;
  stop(): Promise<void>;
}

/** Where a component runs and what it is called. */
export interface Placement {
  readonly side: NetworkSide;
  /** Name in logs and errors. @default the kind */
  readonly name?: string;
  /** Also append its output to this file. */
  readonly logFile?: string;
  /** Environment variables for it (secrets such as the admin password: never on the command line, where ps shows them). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A started reverse proxy: where devices reach it, its logs, its stop. */
export interface ReverseProxyHandle {
  readonly url: string;
  readonly logs: { readonly access: string; readonly error: string };
  /** The nginx master's process id where it runs on this machine (benches read its memory); undefined in a container. */
  readonly pid?: number;
  stop(): Promise<void>;
}

/**
 * The runtimes whose components are processes on this machine (loopback, netns): a component is
 * launched from its options, on the side's spawner; nginx runs behind the side's command prefix.
 */
abstract class ProcessRuntime {
  abstract address(side: NetworkSide): string;
  abstract spawner(side: NetworkSide): Spawner;
  /** Words placed before a command line to run it on `side` (for components that spawn themselves, like nginx). */
  abstract commandPrefix(side: NetworkSide): string[];
  abstract readonly isolated: boolean;
  /** Processes of this machine read the lab's files in place. */
  readonly seesFileChanges = true;

  port(real: number): number {
    return this.isolated ? real : 0;
  }

  start<K extends ComponentKind>(kind: K, options: ProcessOptions[K], placement: Placement): Promise<ComponentHandle<ReadyLine[K]>> {
    return launch(kind, options, { spawner: this.spawner(placement.side), name: placement.name, logFile: placement.logFile, env: placement.env });
  }

  async startReverseProxy(options: Omit<NginxReverseProxyOptions, "host" | "port" | "commandPrefix">, placement: Placement): Promise<ReverseProxyHandle> {
    return new NginxReverseProxy({ ...options, host: this.address(placement.side), port: this.port(DEVICE_PORT), commandPrefix: this.commandPrefix(placement.side) }).start();
  }
}

/** Every component a process on 127.0.0.1: fast and available everywhere, but nothing is isolated. */
export class LoopbackRuntime extends ProcessRuntime implements Runtime {
  readonly name = "loopback";
  readonly isolated = false;
  readonly notProved = ["that a device cannot reach the UMS past the front (the bypass row is skipped): every component shares 127.0.0.1, so no security group is enforced"];
  /** @param fallbackReason why the namespace runtime was not used, when `auto` fell back to this one */
  constructor(readonly fallbackReason?: string) {
    super();
  }
  describe(): string {
    const why = this.fallbackReason ? `network namespaces unavailable: ${this.fallbackReason}` : "chosen with --runtime loopback";
    return `loopback: every component its own process on 127.0.0.1, no network isolation (${why})`;
  }
  address(): string {
    return "127.0.0.1";
  }
  spawner(): Spawner {
    return hostSpawner;
  }
  commandPrefix(): string[] {
    return [];
  }
  async isolate(): Promise<void> {}
  async probe(): Promise<undefined> {
    return undefined;
  }
  async adminClient(options: ImiClientOptions): Promise<ImiClient> {
    return new ImiClient(options);
  }
  async stop(): Promise<void> {}
}

/** Components in Linux network namespaces, security groups as nftables rules inside them. */
export class NetnsRuntime extends ProcessRuntime implements Runtime {
  readonly name = "netns";
  readonly isolated = true;
  readonly notProved: readonly string[] = [];
  private readonly relays = new Map<NetworkSide, Promise<AdminRelay>>();
  constructor(readonly lab: StartedNetnsLab) {
    super();
  }
  describe(): string {
    // The lab's own line names the sides filtered right now; over a run, every topology applies its own.
    return this.lab.describe().replace(/; security groups as nftables rules on .*$/, "; each topology's security groups applied as nftables rules inside the namespaces");
  }
  address(side: NetworkSide): string {
    return this.lab.address(side);
  }
  spawner(side: NetworkSide): Spawner {
    const spawnIn = this.lab.spawner(side);
    return (command, args, options) => spawnIn(command, args, options);
  }
  commandPrefix(side: NetworkSide): string[] {
    return this.lab.commandPrefix(side);
  }
  async isolate(layout: SecurityGroupLayout | undefined): Promise<void> {
    await this.lab.applySecurityGroups(layout ?? { groups: [], placement: {} });
  }
  probe(from: NetworkSide, host: string, port: number): Promise<TcpProbeResult> {
    return this.lab.probe(from, host, port, 1500);
  }
  /** Admin requests run in a relay process on the UMS's side: this process is on a device network. */
  async adminClient(options: ImiClientOptions, side: NetworkSide): Promise<ImiClient> {
    let relay = this.relays.get(side);
    if (!relay) this.relays.set(side, (relay = AdminRelay.start(this.spawner(side))));
    return new RelayedImiClient(options, await relay);
  }
  async stop(): Promise<void> {
    for (const relay of this.relays.values()) await (await relay.catch(() => undefined))?.close();
    await this.lab.stop();
  }
}

/** The device network this process joins in the namespace runtime (RFC 5737 TEST-NET-3). */
export const HOST_LINK_SUBNET = "203.0.113.0/30";

export type RuntimeChoice = "auto" | "loopback" | "netns" | "containers";

/**
 * The container runtime, loaded only when asked for: it needs testcontainers (a development
 * dependency, not installed by `npm ci --omit=dev`), which the other runtimes never load.
 */
async function startContainerRuntime(note: (m: string) => void): Promise<Runtime> {
  let mod: typeof import("./containers/container-runtime");
  try {
    mod = await import("./containers/container-runtime");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" && /testcontainers/.test((e as Error).message)) {
      throw new UserError("--runtime containers needs the 'testcontainers' package, which is not installed\n  fix: run 'npm ci' (with the development dependencies) in the ums-edge checkout");
    }
    throw e;
  }
  return mod.ContainerRuntime.start({ note });
}

/** `auto`: namespaces where they work (root on Linux with ip and nft), loopback elsewhere; says why. Containers only on request. */
export async function chooseRuntime(choice: RuntimeChoice, note: (m: string) => void = () => {}): Promise<Runtime> {
  if (choice === "loopback") return new LoopbackRuntime();
  if (choice === "containers") return startContainerRuntime(note);
  const availability = netnsAvailability();
  if (!availability.ok) {
    if (choice === "netns") throw new UserError(`--runtime netns: ${availability.reason}\n  fix: ${NETNS_FIX}, or use --runtime loopback`);
    note(`runtime: loopback, because network namespaces are unavailable (${availability.reason}); the bypass row is skipped`);
    return new LoopbackRuntime(availability.reason);
  }
  await cleanupStale(DEFAULT_NETNS_PREFIX);
  // This process joins the lab as a device network, so the simulation's flows act as devices.
  return new NetnsRuntime(await new NetnsLab({ hostLink: { subnet: HOST_LINK_SUBNET } }).start());
}
