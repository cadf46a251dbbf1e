import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { STACK_VARIANT } from "../../../core/stack-variants";
import { DEVICE_PORT } from "../../../core/igel";
import { UserError } from "../../../core/errors";
import type { Placement, Runtime } from "../runtime";
import type { ComponentKind, ProcessOptions, ReadyLine } from "../launch";
import type { Lab } from "../lab";
import { REVERSE_PROXY_HEADER } from "../lab";
import type { ComponentHandle } from "../component-process";
import { proxyTlsFilesFromLabPki } from "../../proxy/nginx-reverse-proxy";
import type { NginxScale } from "../../proxy/nginx-config";
import { readStackSecurityGroups } from "../../terraform/security-groups";
import { REVERSE_PROXY_SECURITY_GROUPS, ICG_SECURITY_GROUPS } from "../security-groups/topology-groups";
import { placeSecurityGroups, RoleSecurityGroups, SecurityGroupLayout } from "../security-groups/model";
import type { UmsReadyLine } from "../../ums/process-options";
import type { IcgReadyLine } from "../../icg/process-options";
import { AppConfigSource, deviceFacing, FrontKind, TopologyDefinition, TopologyName, topologyDefinition } from "./definitions";
import { TopologySkipped, DeviceEndpoints, StartedTopology, UmsServer, RestartHow } from "./topology";
import { PostgresUnavailable, startLabPostgres } from "../lab-postgres";

/**
 * Starts a topology from its definition on any runtime (loopback, netns, containers): security groups
 * first, then the backend (an ICG and the UMS connecting out to it, or the UMS), then the front by
 * its kind. Nothing is left running if a component fails to start.
 */

export interface TopologyOptions {
  /** Replace the UMS application.yml the topology would use (to show a misconfiguration). */
  readonly umsAppConfig?: AppConfigSource;
  /** A suffix for the run directory when one topology is started more than once. */
  readonly instance?: string;
  /** Heartbeat interval the UMS tells devices (benches holding many sessions use a longer one). @default 1000 */
  readonly umsHeartbeatMs?: number;
  /** Processes of the ALB emulator (node:cluster workers; each holds its share of the connections). @default 1 */
  readonly albWorkers?: number;
  /** Multiplies the ALB's idle timeout (time-scaled scenarios and soaks). @default 1 */
  readonly albIdleTimeoutScale?: number;
  /** nginx's workers and connections (benches holding many sessions). @default 1 worker, 4096 connections */
  readonly nginxScale?: NginxScale;
  /** Quieter components (benches): no per-request log lines. @default false */
  readonly quiet?: boolean;
}

/** The security groups of a topology, placed on the sides its components run on. */
export function securityGroupsOf(definition: TopologyDefinition, lab: Lab): SecurityGroupLayout {
  const byRole: RoleSecurityGroups =
    definition.securityGroups === "stack"
      ? readStackSecurityGroups(lab.stackDir(definition.stack!, definition.umsServers))
      : definition.securityGroups === "reverse-proxy"
        ? REVERSE_PROXY_SECURITY_GROUPS
        : ICG_SECURITY_GROUPS;
  return placeSecurityGroups(byRole, definition.sides);
}

/** A per-topology run directory under the lab. */
export function runDir(lab: Lab, name: string): string {
  const dir = path.join(lab.dir, "run", name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** What a starter needs: the runtime, the lab, and a way to keep what it started for the stop. */
interface StartContext {
  readonly definition: TopologyDefinition;
  readonly runtime: Runtime;
  readonly lab: Lab;
  readonly options: TopologyOptions;
  readonly dir: string;
  track<R>(component: ComponentHandle<R>): ComponentHandle<R>;
  onStop(stop: () => Promise<void>): void;
  /** Restarts by component name (soaks, reconnect storms). */
  readonly restarts: Record<string, (how?: RestartHow) => Promise<void>>;
}

/**
 * Starts a component that can be restarted: stopped (SIGTERM), then started again with the same
 * options on the port(s) it got the first time (`pinned`), so whoever reaches it finds it again.
 */
async function startRestartable<K extends ComponentKind>(ctx: StartContext, kind: K, options: ProcessOptions[K], placement: Placement, pinned: (ready: ReadyLine[K]) => ProcessOptions[K]): Promise<ComponentHandle<ReadyLine[K]>> {
  const first = ctx.track(await ctx.runtime.start(kind, options, placement));
  let current = first;
  const again = pinned(first.ready);
  // track() keeps each process for the stop (a stopped one stops again at no cost) and `components` on the newest.
  ctx.restarts[first.name] = async (how) => {
    await (how?.abrupt && current.kill ? current.kill() : current.stop());
    await how?.whileDown?.();
    current = ctx.track(await ctx.runtime.start(kind, again, placement));
  };
  return first;
}

/** `8443=<port it got>` for each listener of a started ALB emulator. */
function pinnedListeners(ready: ReadyLine["alb"]): string[] {
  return Object.entries(ready.listeners).map(([listener, url]) => `${listener}=${new URL(url).port}`);
}

interface Backend {
  readonly ums: UmsReadyLine;
  /** Every UMS server (the first is `ums`). */
  readonly servers: readonly UmsServer[];
  readonly db?: string;
  readonly icg?: IcgReadyLine;
  /** What the front forwards to (or devices reach without a front): one per target group attachment. */
  readonly targets: ReadonlyArray<{ readonly url: string; readonly host: string; readonly port: number }>;
}

/**
 * Where the UMS servers keep their state: their own SQLite file in the run directory, or (two or
 * more servers) one PostgreSQL the lab starts for them, as an IGEL UMS HA cluster shares one database.
 */
async function umsDatabase(ctx: StartContext, servers: number): Promise<string | undefined> {
  // A container keeps its state in memory: the host path does not exist inside it.
  if (servers === 1) return ctx.runtime.name === "containers" ? undefined : path.join(ctx.dir, "ums.sqlite");
  if (ctx.runtime.name !== "loopback") {
    throw new TopologySkipped(
      `${ctx.definition.name} runs on the loopback runtime only for now: on ${ctx.runtime.name} the private side has one address, so a second UMS server needs another port, which the stack's security group (8443 from the ALB) rightly refuses`,
    );
  }
  try {
    const pg = await startLabPostgres(path.join(ctx.dir, "postgres"));
    ctx.onStop(() => pg.stop());
    return pg.url;
  } catch (e) {
    if (e instanceof PostgresUnavailable) throw new TopologySkipped(`${ctx.definition.name} needs PostgreSQL for its UMS servers' shared database: ${e.message}`);
    throw e;
  }
}

interface Front {
  readonly devices: Omit<DeviceEndpoints, "serverName" | "trustedCaFile">;
  readonly albLogsDir?: string;
  readonly nginxLogs?: StartedTopology["nginxLogs"];
  readonly nginxPid?: number;
}

/** The backend: an ICG with the UMS connecting out to it, or the UMS itself. */
async function startBackend(ctx: StartContext): Promise<Backend> {
  const { definition: d, runtime, lab, options } = ctx;
  const log = (name: string) => path.join(ctx.dir, `${name}.log`);
  let icg: IcgReadyLine | undefined;
  if (d.backend === "icg") {
    const appConfig = d.appConfig.icg ? lab.appConfigFile(d.appConfig.icg, d.stack) : undefined;
    const started = await startRestartable(
      ctx,
      "icg",
      { pki: lab.pki.dir, host: runtime.address(d.sides.backend), port: runtime.port(DEVICE_PORT), appConfig, quiet: options.quiet },
      { side: d.sides.backend, logFile: log("icg") },
      (ready) => ({ pki: lab.pki.dir, host: runtime.address(d.sides.backend), port: ready.port, appConfig, quiet: options.quiet }),
    );
    icg = started.ready;
  }
  // Where the UMS shares its side with the ICG, 8443 is the ICG's: the UMS (only its admin API is used then) takes another port.
  const umsPort = icg && d.sides.ums === d.sides.backend ? 9443 : DEVICE_PORT;
  const count = d.umsServers ?? 1;
  const db = await umsDatabase(ctx, count);
  const servers: Array<UmsServer & { ready: UmsReadyLine }> = [];
  for (let i = 0; i < count; i++) {
    const name = i === 0 ? "ums" : `ums-${i + 1}`;
    const umsOptions = {
      pki: lab.pki.dir,
      appConfig: lab.appConfigFile(options.umsAppConfig ?? d.appConfig.ums, d.stack),
      host: runtime.address(d.sides.ums),
      port: runtime.port(umsPort),
      heartbeatMs: options.umsHeartbeatMs ?? 1000,
      db,
      icgUrl: icg?.url,
      adminUser: lab.admin.username,
      quiet: options.quiet,
    };
    const ready = (
      await startRestartable(
        ctx,
        "ums",
        umsOptions,
        // The password through the environment, not the command line (visible to every user in ps).
        { side: d.sides.ums, name, logFile: log(name), env: { UMS_EDGE_ADMIN_PASSWORD: lab.admin.password } },
        (r) => ({ ...umsOptions, port: r.port }),
      )
    ).ready;
    servers.push({ name, url: ready.url, host: ready.host, port: ready.port, ready });
  }
  const ums = servers[0].ready;
  const targets = icg ? [icg] : servers.map((s) => s.ready);
  return { ums, servers: servers.map(({ ready: _ready, ...s }) => s), db, icg, targets: targets.map((t) => ({ url: t.url, host: t.host, port: t.port })) };
}

type FrontStarter = (ctx: StartContext, backend: Backend) => Promise<Front>;

/** The emulated ALB's health-check clock against AWS's: the stack's interval and thresholds, 50 times faster. */
export const ALB_HEALTH_CHECK_SCALE = 0.02;

/** One starter per front kind: adding a topology with a known front needs none. */
const FRONT_STARTERS: Readonly<Record<FrontKind, FrontStarter>> = {
  none: async (_ctx, backend) => ({ devices: { enrollmentUrl: backend.targets[0].url, clusterUrl: backend.targets[0].url, webAppUrl: backend.targets[0].url } }),

  nginx: async (ctx, backend) => {
    const proxy = await ctx.runtime.startReverseProxy(
      { dir: path.join(ctx.dir, "nginx"), upstream: backend.targets[0].url, ...proxyTlsFilesFromLabPki(ctx.lab.pki), forwardedCertHeader: REVERSE_PROXY_HEADER, scale: ctx.options.nginxScale },
      { side: ctx.definition.sides.front! },
    );
    ctx.onStop(() => proxy.stop());
    return { devices: { enrollmentUrl: proxy.url, clusterUrl: proxy.url, webAppUrl: proxy.url }, nginxLogs: proxy.logs, nginxPid: proxy.pid };
  },

  alb: async (ctx, backend) => {
    const { definition: d, runtime, lab, options } = ctx;
    const side = d.sides.front!;
    const listeners = STACK_VARIANT[d.stack!].listeners;
    const logsDir = path.join(ctx.dir, "alb-logs");
    fs.mkdirSync(logsDir, { recursive: true });
    const albOptions = {
      // The stack with one target group attachment per UMS server; each attachment is the server at the same position.
      stack: lab.stackDir(d.stack!, d.umsServers),
      targets: backend.targets.map((t) => `${t.host}:${t.port}`),
      host: runtime.address(side),
      ports: listeners.map((l) => `${l.port}=${runtime.port(l.port)}`),
      logs: logsDir,
      // Health checks every 0.6 s instead of 30 s: the same thresholds, a faster simulation.
      healthCheckScale: ALB_HEALTH_CHECK_SCALE,
      idleTimeoutScale: options.albIdleTimeoutScale,
      workers: options.albWorkers && options.albWorkers > 1 ? options.albWorkers : undefined,
    };
    const alb = await startRestartable(ctx, "alb", albOptions, { side, logFile: path.join(ctx.dir, "alb.log") }, (ready) => ({ ...albOptions, ports: pinnedListeners(ready) }));
    const urlOf = (mtls: boolean) => alb.ready.listeners[String(listeners.find((l) => (l.mtls !== "off") === mtls)?.port ?? listeners[0].port)];
    // Verify: onboarding and the web app on the listener without mTLS (the OS 12 device enrollment address).
    return { devices: { enrollmentUrl: urlOf(false), clusterUrl: urlOf(true), webAppUrl: urlOf(false) }, albLogsDir: logsDir };
  },
};

/** Stops what was started, newest first, ignoring errors: used on failure and on stop(). */
async function stopAll(stoppers: Array<() => Promise<void>>): Promise<void> {
  for (const stop of [...stoppers].reverse()) await stop().catch(() => undefined);
}

/** Starts one topology's components on the runtime and applies its security groups. */
export async function startTopology(name: TopologyName, runtime: Runtime, lab: Lab, options: TopologyOptions = {}): Promise<StartedTopology> {
  const definition = topologyDefinition(name);
  const t0 = performance.now();
  const stoppers: Array<() => Promise<void>> = [];
  const components: Record<string, ComponentHandle<unknown>> = {};
  const restarts: Record<string, (how?: RestartHow) => Promise<void>> = {};
  const ctx: StartContext = {
    definition,
    runtime,
    lab,
    options,
    dir: runDir(lab, options.instance ? `${name}-${options.instance}` : name),
    track(c) {
      components[c.name] = c;
      stoppers.push(() => c.stop());
      return c;
    },
    onStop: (stop) => stoppers.push(stop),
    restarts,
  };
  try {
    // Security groups first, as in AWS: they exist before the instances boot, and connections the
    // components open are tracked by the rules from their first packet.
    await runtime.isolate(securityGroupsOf(definition, lab));
    const backend = await startBackend(ctx);
    const front = await FRONT_STARTERS[definition.front](ctx, backend);
    return {
      name,
      definition,
      runtime,
      deviceFacing: deviceFacing(definition),
      devices: { ...front.devices, serverName: lab.pki.fqdn, trustedCaFile: lab.pki.web.rootCert },
      admin: { baseUrl: backend.ums.url, caFile: lab.pki.web.rootCert, serverName: lab.pki.fqdn, side: definition.sides.ums, credentials: lab.admin },
      ums: { host: backend.ums.host, port: backend.ums.port },
      umsServers: backend.servers,
      umsDb: backend.db,
      albLogsDir: front.albLogsDir,
      nginxLogs: front.nginxLogs,
      nginxPid: front.nginxPid,
      components,
      startMs: Math.round(performance.now() - t0),
      restartable: Object.keys(restarts),
      restart: async (component, how) => {
        const restart = restarts[component];
        if (!restart) throw new UserError(`topology '${name}' cannot restart '${component}'\n  fix: restart one of ${Object.keys(restarts).join(", ")}`);
        await restart(how);
      },
      stop: async () => {
        await stopAll(stoppers);
        await runtime.isolate(undefined);
      },
    };
  } catch (e) {
    await stopAll(stoppers);
    await runtime.isolate(undefined).catch(() => undefined);
    throw e;
  }
}
