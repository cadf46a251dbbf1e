import type { Backend } from "../../../core/igel";
import type { StackVariant } from "../../../core/stack-variants";
import type { NetworkSide } from "../security-groups/model";

/**
 * The topologies of design section 1, one serialisable record each. Every runtime (loopback, netns,
 * containers) reads these through one starter per front kind (start-topology.ts); adding a topology
 * is adding a record here (plus a starter if its front is new). Nothing in this file runs.
 */

/** What stands between the devices and the backend. */
export type FrontKind = "none" | "nginx" | "alb";

/**
 * Where a server's application.yml comes from: a file the lab writes (lab.ts), or `stack` for the
 * stack's own `ums_application_yml` output (what an administrator pastes into the UMS).
 */
export type AppConfigSource = "stack" | "no-forwarding" | "reverse-proxy" | "wrong-header-verify" | "no-url-aws-passthrough";

/** Security groups: the stack's own (its load balancer's for the front, its instance's for the backend), or a hand-written layout. */
export type SecurityGroupSource = "stack" | "reverse-proxy" | "icg";

export interface TopologyDefinition {
  readonly name: string;
  /** One line for people. */
  readonly description: string;
  /** The synthesized stack that configures the front and the security groups; none for topologies without one. */
  readonly stack?: StackVariant;
  readonly front: FrontKind;
  /** What the front forwards to (or devices reach without a front): the UMS, or an ICG the UMS connects out to. */
  readonly backend: Backend;
  /** The network side each component runs on: devices are always on the internet side. */
  readonly sides: { readonly front?: NetworkSide; readonly backend: NetworkSide; readonly ums: NetworkSide };
  /** The application.yml of the UMS, and of the ICG when it is the backend behind an ALB. */
  readonly appConfig: { readonly ums: AppConfigSource; readonly icg?: AppConfigSource };
  readonly securityGroups: SecurityGroupSource;
  /** Expected outcomes: a topology named here stands for this one wherever the table does not name it. @default none */
  readonly expectLike?: string;
  /**
   * UMS servers behind the front, sharing one PostgreSQL database (an IGEL UMS HA cluster); the
   * stack is synthesized with `instance.count` servers, one target group attachment each. @default 1 (its own SQLite file)
   */
  readonly umsServers?: number;
  /** Why it is left out of `--topology all` (named explicitly, or with `all,ha`). @default in `all` */
  readonly optIn?: string;
}

/** Why the HA topologies are not in `all`: CI stays fast. */
const HA_OPT_IN = "starts its own PostgreSQL and a second UMS server (measured on loopback: both HA topologies 85 s, their single-server twins 34 s; start 9.5 s against 2 s): run it with --topology ha, all,ha or by name";

export const TOPOLOGY_DEFINITIONS = [
  {
    name: "direct",
    description: "devices reach the UMS on 8443 (ums-direct stack)",
    stack: "ums-direct",
    front: "none",
    backend: "ums",
    sides: { backend: "public", ums: "public" },
    appConfig: { ums: "no-forwarding" },
    securityGroups: "stack",
  },
  {
    name: "reverse-proxy",
    description: "devices reach nginx on 8443 (TLS 1.3, offloading); nginx forwards the certificate to the UMS",
    front: "nginx",
    backend: "ums",
    sides: { front: "public", backend: "private", ums: "private" },
    appConfig: { ums: "reverse-proxy" },
    securityGroups: "reverse-proxy",
  },
  {
    name: "icg",
    description: "devices reach the ICG on 8443; the UMS connects out to it (nothing connects in to the UMS)",
    front: "none",
    backend: "icg",
    sides: { backend: "public", ums: "private" },
    appConfig: { ums: "no-forwarding" },
    securityGroups: "icg",
  },
  {
    name: "alb-verify",
    description: "ALB with a trust store: 8443 mTLS verify, 443 plain TLS; the UMS behind it",
    stack: "ums-alb-verify",
    front: "alb",
    backend: "ums",
    sides: { front: "public", backend: "private", ums: "private" },
    appConfig: { ums: "stack" },
    securityGroups: "stack",
  },
  {
    name: "alb-passthrough",
    description: "ALB with mTLS passthrough on 8443; the UMS behind it verifies the forwarded chain",
    stack: "ums-alb-passthrough",
    front: "alb",
    backend: "ums",
    sides: { front: "public", backend: "private", ums: "private" },
    appConfig: { ums: "stack" },
    securityGroups: "stack",
  },
  {
    name: "icg-alb-verify",
    description: "ALB with a trust store in front of an ICG; the UMS connects out to the ICG",
    stack: "icg-alb-verify",
    front: "alb",
    backend: "icg",
    sides: { front: "public", backend: "private", ums: "private" },
    appConfig: { ums: "no-forwarding", icg: "stack" },
    securityGroups: "stack",
  },
  {
    name: "icg-alb-passthrough",
    description: "ALB with mTLS passthrough in front of an ICG; the UMS connects out to the ICG",
    stack: "icg-alb-passthrough",
    front: "alb",
    backend: "icg",
    sides: { front: "public", backend: "private", ums: "private" },
    appConfig: { ums: "no-forwarding", icg: "stack" },
    securityGroups: "stack",
  },
  // --- HA: two UMS servers sharing the lab's PostgreSQL behind the ALB (issue 15 §1)
  {
    name: "alb-verify-ha",
    description: "ALB (mTLS verify) in front of two UMS servers sharing one PostgreSQL (a UMS HA cluster)",
    stack: "ums-alb-verify",
    front: "alb",
    backend: "ums",
    sides: { front: "public", backend: "private", ums: "private" },
    appConfig: { ums: "stack" },
    securityGroups: "stack",
    expectLike: "alb-verify",
    umsServers: 2,
    optIn: HA_OPT_IN,
  },
  {
    name: "alb-passthrough-ha",
    description: "ALB (mTLS passthrough) in front of two UMS servers sharing one PostgreSQL (a UMS HA cluster)",
    stack: "ums-alb-passthrough",
    front: "alb",
    backend: "ums",
    sides: { front: "public", backend: "private", ums: "private" },
    appConfig: { ums: "stack" },
    securityGroups: "stack",
    expectLike: "alb-passthrough",
    umsServers: 2,
    optIn: HA_OPT_IN,
  },
  // --- end HA
] as const satisfies readonly TopologyDefinition[];

export type TopologyName = (typeof TOPOLOGY_DEFINITIONS)[number]["name"];

/** Every topology there is (what `--topology` accepts by name). */
export const ALL_TOPOLOGIES: readonly TopologyName[] = TOPOLOGY_DEFINITIONS.map((d) => d.name);

/** `--topology all`: every topology but the opt-in ones. */
export const TOPOLOGIES: readonly TopologyName[] = TOPOLOGY_DEFINITIONS.filter((d: TopologyDefinition) => d.optIn === undefined).map((d) => d.name);

/** The UMS HA cluster topologies (`--topology ha`). */
export const HA_TOPOLOGIES: readonly TopologyName[] = TOPOLOGY_DEFINITIONS.filter((d: TopologyDefinition) => (d.umsServers ?? 1) > 1).map((d) => d.name);

export function isTopologyName(name: string): name is TopologyName {
  return (ALL_TOPOLOGIES as readonly string[]).includes(name);
}

export function topologyDefinition(name: TopologyName): TopologyDefinition & { readonly expectLike?: TopologyName } {
  return TOPOLOGY_DEFINITIONS.find((d) => d.name === name)! as TopologyDefinition & { readonly expectLike?: TopologyName };
}

/** The component devices talk to first, and so the one that refuses them: the front, else the backend. */
export function deviceFacing(d: TopologyDefinition): "nginx" | "alb" | Backend {
  return d.front === "none" ? d.backend : d.front;
}
