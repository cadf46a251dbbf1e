import type { LabPki } from "../../pki/lab-pki";
import { UserError } from "../../../core/errors";
import { readStackOutput } from "../../terraform/read-stack";
import { loadLabPki } from "../../pki/lab-pki";
import { proxyTlsFilesFromLabPki } from "../../proxy/nginx-reverse-proxy";
import { AlbEmulatorContainer, ContainerS3TrustStore, StartedAlbEmulatorContainer } from "./alb-emulator-container";
import { DeviceFleetContainer, DeviceFleetContainerOptions } from "./device-fleet-container";
import { MockUmsContainer, MockUmsContainerOptions, pkiDir, StartedMockUmsContainer } from "./mock-ums-container";
import { ContainerNetwork, NetworkRef, randomSuffix, StartedContainerNetwork } from "./networks";
import { NginxProxyContainer, StartedNginxProxyContainer } from "./nginx-proxy-container";

/**
 * A whole topology (design section 1) as containers on Docker networks that mirror it: the devices'
 * network (the internet side) and the UMS's network, internal in every topology with a front, so
 * that only the front (nginx, the ALB emulator; the ICG later) reaches the UMS.
 *
 *   direct            devices ── UMS                        (one network)
 *   reverse-proxy     devices ── nginx ══ UMS               (══ internal network)
 *   alb-verify/-passthrough  devices ── ALB emulator ══ UMS
 */

export type ContainerTopologyName = "direct" | "reverse-proxy" | "alb-verify" | "alb-passthrough" | "icg" | "icg-alb-verify" | "icg-alb-passthrough";

export const CONTAINER_TOPOLOGIES: readonly ContainerTopologyName[] = ["direct", "reverse-proxy", "alb-verify", "alb-passthrough", "icg", "icg-alb-verify", "icg-alb-passthrough"];

export interface ContainerTopologyOptions {
  readonly topology: ContainerTopologyName;
  /** The lab PKI directory (or the loaded PKI). */
  readonly pki: string | LabPki;
  /** ALB topologies: the synthesized stack directory (`ums-alb-verify`, `ums-alb-passthrough`). @default none (required there) */
  readonly stackDir?: string;
  /** One-time enrollment keys the UMS accepts from the start. @default none */
  readonly enrollmentKeys?: readonly string[];
  /** More mock UMS options (heartbeat, app size, ...). @default none */
  readonly ums?: Partial<Omit<MockUmsContainerOptions, "pki" | "network" | "appConfig" | "enrollmentKeys">>;
  /** alb-verify: read the trust store from S3 (LocalStack), as the real ALB does. @default the stack's asset files */
  readonly trustStoreS3?: ContainerS3TrustStore;
  /** A network the front also joins, e.g. LocalStack's. @default none */
  readonly awsNetwork?: NetworkRef;
  /** Part of every container and network name, to find them when cleaning up. @default random hex */
  readonly runId?: string;
}

/** The front a topology puts between devices and UMS. */
export type StartedFront = StartedAlbEmulatorContainer | StartedNginxProxyContainer;

export interface FrontContext {
  readonly options: ContainerTopologyOptions;
  readonly pki: LabPki;
  readonly runId: string;
  readonly devicesNetwork: StartedContainerNetwork;
  readonly umsNetwork: StartedContainerNetwork;
  readonly ums: StartedMockUmsContainer;
}

/** Starts a topology's front; returns it and where devices go. */
export type FrontStarter = (ctx: FrontContext) => Promise<{ front: StartedFront; clusterUrl: string; enrollmentUrl: string }>;

export interface TopologyPlan {
  /** Whether the UMS sits on its own internal network (every topology with a front). */
  readonly internalUmsNetwork: boolean;
  /** The UMS application.yml for this topology (from the stack for the ALB ones). */
  readonly appConfig: (options: ContainerTopologyOptions) => string | undefined;
  /** undefined: devices talk to the UMS directly. */
  readonly front?: FrontStarter;
}

const REVERSE_PROXY_APP_CONFIG = "igel:\n  client-cert-forwarding:\n    enabled: true\n    encodingType: URL_AWS\n    client-cert-forwarded-header: X-Amzn-Mtls-Clientcert-Leaf\n";

function requireStack(options: ContainerTopologyOptions): string {
  if (!options.stackDir) throw new UserError(`'stackDir': topology '${options.topology}' needs a synthesized ALB stack\n  fix: ums-edge synth --out DIR, then give DIR/stacks/ums-${options.topology}`);
  return options.stackDir;
}

/** The stack's `ums_application_yml` output: what the operator pastes into the UMS. */
export function stackAppConfig(stackDir: string): string {
  return readStackOutput(stackDir, "ums_application_yml");
}

const startAlb: FrontStarter = async ({ options, runId, devicesNetwork, umsNetwork, ums }) => {
  const alb = await new AlbEmulatorContainer({
    stackDir: requireStack(options),
    target: ums.getTargetAddress(),
    name: `ums-edge-${runId}-alb`,
    network: devicesNetwork,
    extraNetworks: [umsNetwork, ...(options.awsNetwork ? [options.awsNetwork] : [])],
    trustStoreS3: options.trustStoreS3,
  }).start();
  const cluster = alb.getInternalListenerUrl(8443);
  // Verify mode: onboarding goes to the plain-TLS 443 listener (the OS 12 device enrollment address).
  const enrollment = alb.getListenerPorts().includes(443) ? alb.getInternalListenerUrl(443) : cluster;
  return { front: alb, clusterUrl: cluster, enrollmentUrl: enrollment };
};

const startNginx: FrontStarter = async ({ pki, runId, devicesNetwork, umsNetwork, ums }) => {
  const proxy = await new NginxProxyContainer({ ...proxyTlsFilesFromLabPki(pki), upstream: ums.getInternalUrl(), name: `ums-edge-${runId}-nginx`, network: devicesNetwork, extraNetworks: [umsNetwork] }).start();
  return { front: proxy, clusterUrl: proxy.getInternalUrl(), enrollmentUrl: proxy.getInternalUrl() };
};

const noIcgYet = (topology: string): FrontStarter => () => {
  throw new UserError(`topology '${topology}': the container runtime has no ICG container yet (the ICG component, simulator/icg/, is being written)\n  fix: run '${topology}' with the loopback or netns runtime for now`);
};

/**
 * What each topology runs. The extension point for the ICG: an `IcgContainer` module beside the
 * others (icg-container.ts, running simulator/icg's process entry) and a FrontStarter here for
 * `icg` (ICG on the devices' network, the UMS connecting out to it from the internal network) and
 * for `icg-alb-*` (the ALB emulator's target is the ICG).
 */
export const TOPOLOGY_PLANS: Readonly<Record<ContainerTopologyName, TopologyPlan>> = {
  direct: { internalUmsNetwork: false, appConfig: () => undefined },
  "reverse-proxy": { internalUmsNetwork: true, appConfig: () => REVERSE_PROXY_APP_CONFIG, front: startNginx },
  "alb-verify": { internalUmsNetwork: true, appConfig: (o) => stackAppConfig(requireStack(o)), front: startAlb },
  "alb-passthrough": { internalUmsNetwork: true, appConfig: (o) => stackAppConfig(requireStack(o)), front: startAlb },
  icg: { internalUmsNetwork: true, appConfig: () => undefined, front: noIcgYet("icg") },
  "icg-alb-verify": { internalUmsNetwork: true, appConfig: () => undefined, front: noIcgYet("icg-alb-verify") },
  "icg-alb-passthrough": { internalUmsNetwork: true, appConfig: () => undefined, front: noIcgYet("icg-alb-passthrough") },
};

export class ContainerTopology {
  constructor(private readonly options: ContainerTopologyOptions) {
    if (!CONTAINER_TOPOLOGIES.includes(options.topology)) throw new UserError(`'topology': '${options.topology}' is not a topology\n  fix: use one of ${CONTAINER_TOPOLOGIES.join(", ")}`);
  }

  /** Creates the networks, starts UMS and front; on any failure removes what it started. */
  async start(): Promise<StartedContainerTopology> {
    const o = this.options;
    const plan = TOPOLOGY_PLANS[o.topology];
    const pki = loadLabPki(pkiDir(o.pki));
    const appConfig = plan.appConfig(o);
    const runId = o.runId ?? randomSuffix();
    const started: Array<{ stop(): Promise<unknown> }> = [];
    const cleanup = async () => {
      for (const s of started.reverse()) await s.stop().catch(() => undefined);
    };
    try {
      const devicesNetwork = await new ContainerNetwork({ name: `ums-edge-${runId}-devices` }).start();
      started.push(devicesNetwork);
      let umsNetwork = devicesNetwork;
      if (plan.internalUmsNetwork) {
        umsNetwork = await new ContainerNetwork({ name: `ums-edge-${runId}-ums`, internal: true }).start();
        started.push(umsNetwork);
      }
      const ums = await new MockUmsContainer({ ...o.ums, pki: pki.dir, appConfig, enrollmentKeys: o.enrollmentKeys, name: `ums-edge-${runId}-ums`, network: umsNetwork }).start();
      started.push(ums);
      let endpoints = { clusterUrl: ums.getInternalUrl(), enrollmentUrl: ums.getInternalUrl() };
      let front: StartedFront | undefined;
      if (plan.front) {
        const f = await plan.front({ options: o, pki, runId, devicesNetwork, umsNetwork, ums });
        started.push(f.front);
        front = f.front;
        endpoints = { clusterUrl: f.clusterUrl, enrollmentUrl: f.enrollmentUrl };
      }
      return new StartedContainerTopology(o.topology, runId, pki, devicesNetwork, umsNetwork, ums, front, endpoints, [...started]);
    } catch (e) {
      await cleanup();
      throw e;
    }
  }
}

export class StartedContainerTopology {
  private fleets = 0;
  constructor(
    readonly topology: ContainerTopologyName,
    readonly runId: string,
    readonly pki: LabPki,
    /** The devices' network (the internet side; not internal). */
    readonly devicesNetwork: StartedContainerNetwork,
    /** The UMS's network: internal in every topology with a front; in `direct` the devices' network. */
    readonly umsNetwork: StartedContainerNetwork,
    readonly ums: StartedMockUmsContainer,
    /** nginx or the ALB emulator; undefined in `direct`. */
    readonly front: StartedFront | undefined,
    /** Where devices on the devices' network go: cluster address and OS 12 device enrollment address. */
    readonly deviceEndpoints: { readonly clusterUrl: string; readonly enrollmentUrl: string },
    private readonly owned: Array<{ stop(): Promise<unknown> }>,
  ) {}

  /** A device fleet container on the devices' network, pointed at this topology's endpoints. */
  fleet(options: Omit<DeviceFleetContainerOptions, "pki" | "network" | "clusterUrl"> & { readonly clusterUrl?: string }): DeviceFleetContainer {
    return new DeviceFleetContainer({
      enrollmentUrl: this.deviceEndpoints.enrollmentUrl,
      name: `ums-edge-${this.runId}-devices-${++this.fleets}`,
      ...options,
      clusterUrl: options.clusterUrl ?? this.deviceEndpoints.clusterUrl,
      pki: this.pki.dir,
      network: this.devicesNetwork,
    });
  }

  /** Stops the front and the UMS and removes the networks (fleets the caller started are the caller's). */
  async stop(): Promise<void> {
    for (const s of [...this.owned].reverse()) await s.stop().catch(() => undefined);
  }
}
