import { ChildProcess, spawn } from "node:child_process";
import { acquireHostRouteLock } from "./host-route-lock";
import { randomBytes } from "node:crypto";
import { UserError } from "../../../core/errors";
import { NETWORK_SIDES, NetworkSide, SecurityGroupLayout } from "../security-groups/model";
import { NFT_REMOVE_TABLE, securityGroupsToNftables } from "../security-groups/nftables";
import { planAddresses, SideAddressing } from "./address-plan";
import { CommandResult, mustRun, runCommand } from "./command";
import { registerExitTeardown, removeNamespaces, removeNamespacesSync } from "./cleanup";
import { DEFAULT_NETNS_PREFIX, labNamespaceNames, NamespaceRole, validatePrefix } from "./names";
import { NetnsProcess } from "./netns-process";
import { checkNetnsPrerequisites } from "./preflight";

export interface NetnsLabOptions {
  /** Start of every namespace name, so a crashed run's leftovers can be found (cleanupStale). @default "ums-edge-" */
  readonly prefix?: string;
  /** The lab's id inside the names (1-12 lower-case letters or digits). @default 6 random hex digits */
  readonly id?: string;
  /** IPv4 subnet per side; the router takes the first host, the side the second. @default DEFAULT_SUBNETS */
  readonly subnets?: Partial<Record<NetworkSide, string>>;
  /** The nftables executable (security-group rules are applied with it). @default "nft" */
  readonly nftBinary?: string;
  /**
   * Also link this process's own namespace (the host) to the router, as one more device network, so
   * that in-process clients (a simulation's flows) reach the public side the way devices do. The
   * veth is created inside the router namespace, so removing the lab removes it (and its routes).
   * @default off
   */
  readonly hostLink?: { readonly subnet: string };
}

/** The host's link into a lab: its address (a device network) and the interface name. */
export interface HostLink {
  readonly address: string;
  readonly gateway: string;
  readonly interfaceName: string;
}

/** Outcome of a TCP connect attempt: `timeout` is what a security group's silent drop looks like from outside. */
export type TcpProbeResult = "connected" | "refused" | "timeout" | "unreachable" | "error";

// Runs inside the namespace (or a probe container); argv-free so nothing depends on how `node -e` numbers its arguments.
export const PROBE_SCRIPT = `
const s = require("net").connect({ host: process.env.PROBE_HOST, port: Number(process.env.PROBE_PORT) });
const done = (r) => { process.stdout.write(r); s.destroy(); process.exit(0); };
s.setTimeout(Number(process.env.PROBE_TIMEOUT), () => done("timeout"));
s.on("connect", () => done("connected"));
s.on("error", (e) => done({ ECONNREFUSED: "refused", ETIMEDOUT: "timeout", EHOSTUNREACH: "unreachable", ENETUNREACH: "unreachable" }[e.code] || "error"));
`;

const ROLES: readonly NamespaceRole[] = ["router", ...NETWORK_SIDES];

/**
 * The network-namespace runtime: an internet side (devices), a public side (ALB / proxy / ICG) and
 * a private side (UMS), each its own namespace, joined by veth pairs to a router namespace; security
 * groups become nftables rules inside the side namespaces. Nothing is created in the host's
 * namespace (the veths are created inside the namespaces), and the host's rules are never touched.
 */
export class NetnsLab {
  constructor(private readonly options: NetnsLabOptions = {}) {}

  /** Checks everything (root, ip netns, nft, free names) before creating anything; rolls back on failure. */
  async start(): Promise<StartedNetnsLab> {
    const prefix = this.options.prefix ?? DEFAULT_NETNS_PREFIX;
    validatePrefix(prefix);
    const id = this.options.id ?? randomBytes(3).toString("hex");
    if (!/^[a-z0-9]{1,12}$/.test(id)) throw new UserError(`netns id '${id}' is not usable\n  fix: give 1-12 lower-case letters or digits, or leave it out`);
    const addressing = planAddresses(this.options.subnets);
    const names = labNamespaceNames(prefix, process.pid, id);
    const nftBinary = this.options.nftBinary ?? "nft";
    checkNetnsPrerequisites(Object.values(names), nftBinary);

    const releaseHostRoutes = this.options.hostLink
      ? await acquireHostRouteLock(600_000, (pid) => process.stderr.write(`ums-edge: waiting for another namespace lab (pid ${pid ?? "?"}) to finish: both would route the same subnets through this host\n`))
      : () => undefined;
    const created: string[] = [];
    let hostLink: HostLink | undefined;
    const unregister = registerExitTeardown(() => removeNamespacesSync(created));
    try {
      for (const role of ROLES) {
        await mustRun("ip", ["netns", "add", names[role]]);
        created.push(names[role]);
        await mustRun("ip", ["-n", names[role], "link", "set", "lo", "up"]);
      }
      const router = names.router;
      for (const side of NETWORK_SIDES) {
        const a = addressing[side];
        const toSide = `to-${side}`;
        // Created inside the router namespace with its peer placed straight into the side's.
        await mustRun("ip", ["-n", router, "link", "add", toSide, "type", "veth", "peer", "name", "eth0", "netns", names[side]]);
        await mustRun("ip", ["-n", router, "addr", "add", `${a.gateway}/${a.prefixLength}`, "dev", toSide]);
        await mustRun("ip", ["-n", router, "link", "set", toSide, "up"]);
        await mustRun("ip", ["-n", names[side], "addr", "add", `${a.address}/${a.prefixLength}`, "dev", "eth0"]);
        await mustRun("ip", ["-n", names[side], "link", "set", "eth0", "up"]);
        await mustRun("ip", ["-n", names[side], "route", "add", "default", "via", a.gateway]);
      }
      // Per-namespace sysctl: forwarding is on in the router only, never on the host.
      await mustRun("ip", ["netns", "exec", router, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
      if (this.options.hostLink) hostLink = await linkHost(router, id, this.options.hostLink.subnet, addressing);
    } catch (e) {
      await removeNamespaces(created).catch(() => removeNamespacesSync(created));
      unregister();
      releaseHostRoutes();
      throw new Error(`could not build the namespace topology (everything created was removed): ${(e as Error).message}`);
    }
    return new StartedNetnsLab(names, addressing, nftBinary, unregister, hostLink, releaseHostRoutes);
  }
}

/** A veth from the router into this process's namespace, with routes to the public and private sides only. */
async function linkHost(router: string, id: string, subnet: string, addressing: Readonly<Record<NetworkSide, SideAddressing>>): Promise<HostLink> {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/30$/.exec(subnet);
  if (!m) throw new UserError(`netns hostLink.subnet: '${subnet}' is not an IPv4 /30\n  fix: give e.g. '203.0.113.0/30'`);
  const base = m.slice(1, 4).join(".");
  const gateway = `${base}.${Number(m[4]) + 1}`;
  const address = `${base}.${Number(m[4]) + 2}`;
  const interfaceName = `ue-${id}`;
  await mustRun("ip", ["-n", router, "link", "add", "to-host", "type", "veth", "peer", "name", interfaceName, "netns", String(process.pid)]);
  await mustRun("ip", ["-n", router, "addr", "add", `${gateway}/30`, "dev", "to-host"]);
  await mustRun("ip", ["-n", router, "link", "set", "to-host", "up"]);
  await mustRun("ip", ["addr", "add", `${address}/30`, "dev", interfaceName]);
  await mustRun("ip", ["link", "set", interfaceName, "up"]);
  for (const side of ["public", "private"] as const) {
    await mustRun("ip", ["route", "add", addressing[side].subnet, "via", gateway, "dev", interfaceName]);
  }
  return { address, gateway, interfaceName };
}

export class StartedNetnsLab {
  /** The runtime's name, for reports. */
  readonly name = "netns";
  private readonly processes = new Set<NetnsProcess>();
  private rulesets: Partial<Record<NetworkSide, string>> = {};
  private stopped = false;

  constructor(
    /** Namespace name per side, and the router's. */
    readonly namespaces: Readonly<Record<NamespaceRole, string>>,
    /** Subnet, gateway and address per side. */
    readonly addressing: Readonly<Record<NetworkSide, SideAddressing>>,
    private readonly nftBinary: string,
    private readonly unregisterExitTeardown: () => void,
    /** Present when the lab was started with `hostLink`. */
    readonly hostLink?: HostLink,
    private readonly releaseHostRoutes: () => void = () => undefined,
  ) {}

  /** The address of a side's namespace (where its processes listen and connect from). */
  address(side: NetworkSide): string {
    return this.addressing[side].address;
  }

  /** One line saying which runtime ran and how, for the report. */
  describe(): string {
    const sides = NETWORK_SIDES.map((s) => `${s} ${this.namespaces[s]} (${this.address(s)})`).join(", ");
    const filtered = NETWORK_SIDES.filter((s) => this.rulesets[s] && this.rulesets[s] !== NFT_REMOVE_TABLE);
    const host = this.hostLink ? `; this process linked in as a device network (${this.hostLink.address})` : "";
    return `netns: Linux network namespaces ${sides}, routed through ${this.namespaces.router}${host}; security groups as nftables rules on ${filtered.length ? filtered.join(", ") : "no side"}`;
  }

  /** Words that run a command line inside a side's namespace (for components that spawn themselves, e.g. nginx's `commandPrefix`). */
  commandPrefix(side: NetworkSide): string[] {
    return ["ip", "netns", "exec", this.namespaces[side]];
  }

  /**
   * A spawn function that places processes in a side's namespace, for launchers that manage their
   * own ChildProcess (command, args, options → ChildProcess; stdout/stderr piped). The lab's stop()
   * kills whatever still runs in its namespaces.
   */
  spawner(side: NetworkSide): (command: string, args: readonly string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: boolean }) => ChildProcess {
    return (command, args, options = {}) => {
      this.assertRunning();
      const [cmd, ...prefix] = this.commandPrefix(side);
      return spawn(cmd, [...prefix, command, ...args], { stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd });
    };
  }

  /** Starts a process inside a side's namespace; stop() of the lab stops it too. */
  spawn(side: NetworkSide, command: string, args: readonly string[] = [], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): NetnsProcess {
    const child = this.spawner(side)(command, args, opts);
    const handle = new NetnsProcess(child, `[${side}] ${[command, ...args].join(" ")}`);
    this.processes.add(handle);
    handle.exited.then(() => this.processes.delete(handle));
    return handle;
  }

  /** Runs a command to completion inside a side's namespace. */
  exec(side: NetworkSide, command: string, args: readonly string[] = [], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
    this.assertRunning();
    const [cmd, ...prefix] = this.commandPrefix(side);
    return runCommand(cmd, [...prefix, command, ...args], { ...opts, timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  /**
   * Turns security groups into nftables rules in the namespaces that host their members (replacing
   * earlier ones); sides without groups are left unfiltered. Returns the rulesets applied.
   */
  async applySecurityGroups(layout: SecurityGroupLayout): Promise<Readonly<Partial<Record<NetworkSide, string>>>> {
    this.assertRunning();
    const byId = new Map(layout.groups.map((g) => [g.id, g]));
    const members = (groupId: string) => NETWORK_SIDES.filter((s) => layout.placement[s]?.includes(groupId)).map((s) => this.address(s));
    const rulesets: Partial<Record<NetworkSide, string>> = {};
    for (const side of NETWORK_SIDES) {
      const ids = layout.placement[side] ?? [];
      const groups = ids.map((id) => {
        const group = byId.get(id);
        if (!group) throw new UserError(`security group '${id}' is placed on the ${side} side but not defined in the layout`);
        return group;
      });
      rulesets[side] = groups.length ? securityGroupsToNftables(groups, members) : NFT_REMOVE_TABLE;
    }
    for (const side of NETWORK_SIDES) {
      const r = await this.exec(side, this.nftBinary, ["-f", "-"], { input: rulesets[side] });
      if (r.code !== 0) throw new Error(`nft refused the ${side} side's ruleset: ${r.stderr.trim()}\n${rulesets[side]}`);
    }
    this.rulesets = rulesets;
    return rulesets;
  }

  /** A real TCP connect from inside `fromSide`'s namespace, giving up after `timeoutMs`. */
  async probe(fromSide: NetworkSide, toAddress: string, port: number, timeoutMs = 1000): Promise<TcpProbeResult> {
    const env = { ...process.env, PROBE_HOST: toAddress, PROBE_PORT: String(port), PROBE_TIMEOUT: String(timeoutMs) };
    const r = await this.exec(fromSide, process.execPath, ["-e", PROBE_SCRIPT], { env, timeoutMs: timeoutMs + 10_000 });
    return (r.stdout.trim() || "error") as TcpProbeResult;
  }

  /** True when a TCP connection from `fromSide` to `toAddress:port` opens. */
  async canConnect(fromSide: NetworkSide, toAddress: string, port: number, timeoutMs = 1000): Promise<boolean> {
    return (await this.probe(fromSide, toAddress, port, timeoutMs)) === "connected";
  }

  /** Stops every process started here, removes every namespace (and so every veth) of the lab. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.processes].map((p) => p.stop()));
    // The kernel removes a namespace's veth peers asynchronously; the host's end goes now, explicitly.
    if (this.hostLink) await runCommand("ip", ["link", "del", this.hostLink.interfaceName]);
    // On failure the exit hook stays registered and tries once more when the process ends.
    await removeNamespaces(Object.values(this.namespaces));
    this.unregisterExitTeardown();
    this.releaseHostRoutes();
  }

  private assertRunning(): void {
    if (this.stopped) throw new Error(`the namespace lab ${this.namespaces.router} was stopped`);
  }
}
