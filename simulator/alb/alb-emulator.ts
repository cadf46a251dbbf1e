import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../../core/errors";
import { readStack } from "../terraform/read-stack";
import type { MtlsMode, StackModel } from "../terraform/stack-model";
import { AlbRuntime, servedListeners } from "./alb-runtime";
import type { AlbEvent } from "./events";
import { HealthChecker } from "./health-checker";
import { logDayDir } from "./log-files";
import { TargetAddress, TargetGroupPool, TargetState } from "./target-pool";
import { ClusterRuntime } from "./cluster-primary";
import type { ReloadChange } from "./alb-runtime";
import { StackReloader } from "./stack-reloader";

/**
 * An AWS Application Load Balancer emulator configured entirely from a synthesized stack, shaped
 * like a testcontainers module: `new AlbEmulator(options).start()` gives a StartedAlbEmulator.
 */
export interface AlbEmulatorOptions {
  /** The stack directory holding cdk.tf.json (`cdktf.out/stacks/<name>`). */
  readonly stackDir: string;
  /**
   * Where the registered targets really are, `HOST:PORT` (one or more): every target group
   * attachment of the stack stands for these, since an EC2 instance ID cannot be reached here.
   */
  readonly target: string | readonly string[];
  /** Local port per listener port (0: any free port). @default each listener on its own port number */
  readonly ports?: Readonly<Record<number, number>>;
  /** Address the listeners bind to. @default "127.0.0.1" */
  readonly host?: string;
  /** Root of the S3-shaped access and connection log tree (the stack's log settings apply). @default no logs */
  readonly logsDir?: string;
  /** AWS account ID in log paths and ARNs (the stack only knows it after apply). @default "123456789012" */
  readonly accountId?: string;
  /** Multiplies health check interval and timeout, so tests need not wait 30 s. @default 1 */
  readonly healthCheckScale?: number;
  /** A target that sends nothing for this long gets a 504. @default the load balancer's idle timeout (60 s) */
  readonly targetTimeoutMs?: number;
  /** A target that does not accept a connection within this gets a 504. @default 10000 (AWS's) */
  readonly connectTimeoutMs?: number;
  /** Called for every refusal (with the rule and the reason) and every target health change. @default none */
  readonly onEvent?: (event: AlbEvent) => void;
  /**
   * Processes serving the listeners. 1 serves in this process; more fork node:cluster workers that
   * share the listening sockets (the benchmark's setting on a multi-core machine). @default 1
   */
  readonly workers?: number;
  /** Node options for worker processes (e.g. a TypeScript loader when running from sources). @default process.execArgv */
  readonly workerExecArgv?: readonly string[];
  /**
   * How often cdk.tf.json is checked for a change (a re-synthesized stack is applied without a
   * restart, as AWS updates a trust store or a re-imported certificate in place). 0: never. @default 250
   */
  readonly stackPollMs?: number;
  /** Where the trust store is read from, e.g. `s3TrustStoreLoader(...)` (S3, as the real ALB; see s3-trust-store.ts). Needs workers 1. @default the stack's asset files */
  readonly trustStoreLoader?: (stack: StackModel) => Promise<StackModel>;
}

export interface ServedListenerInfo {
  /** The listener's port in the stack. */
  readonly port: number;
  /** Where it listens here. */
  readonly localPort: number;
  readonly url: string;
  readonly mtls: MtlsMode;
  readonly address: string;
}

export interface TargetHealth {
  readonly targetGroup: string;
  readonly target: string;
  readonly state: TargetState;
  readonly reason: string;
  readonly description: string;
}

export interface StartedAlbEmulator {
  readonly stack: StackModel;
  readonly listeners: readonly ServedListenerInfo[];
  /** `https://host:port` of the listener with this port in the stack; throws for an unknown port. */
  listenerUrl(listenerPort: number): string;
  /** The log root, if logs are written. */
  readonly logsDir?: string;
  /** Today's directory of access logs (undefined without logsDir or with access logs off). */
  readonly accessLogDir?: string;
  /** Today's directory of connection logs. */
  readonly connectionLogDir?: string;
  /** Current health of every registered target. */
  targetHealth(): TargetHealth[];
  /** Writes buffered log lines. */
  flushLogs(): Promise<void>;
  /**
   * Re-reads the stack now and applies its certificates, trust stores and revocations to new
   * handshakes (what the stack-file watch does on a change). Rejects, changing nothing, when the
   * new stack cannot be served; emits `stack-reloaded` or `stack-reload-refused` either way.
   */
  reload(): Promise<readonly ReloadChange[]>;
  /** The line `ums-edge alb` prints when ready. */
  readyInfo(): AlbReadyInfo;
  stop(): Promise<void>;
}

export interface AlbReadyInfo {
  readonly component: "alb";
  readonly stack: string;
  /** Listener port → URL. */
  readonly listeners: Readonly<Record<string, string>>;
  /** Listener port → mTLS mode. */
  readonly mtls: Readonly<Record<string, MtlsMode>>;
  readonly targets: readonly string[];
  readonly logsDir: string | null;
  readonly pid: number;
}

export const DEFAULT_ACCOUNT_ID = "123456789012";
export const EVENTS_LOG = "alb-emulator.log";

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Parses `HOST:PORT`; throws a UserError in the words of `label` (an option or a flag). */
export function parseHostPort(text: string, label: string): TargetAddress {
  const m = HOST_PORT.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new UserError(`${label}: '${text}' is not HOST:PORT\n  fix: give the target's address and port, e.g. 127.0.0.1:8443 or ums.example.com:8443`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

/** Checks the options against each other and the stack, before anything is opened. */
export function validateAlbEmulatorOptions(options: AlbEmulatorOptions, stack: StackModel, labels: { target: string; ports: string } = { target: "'target'", ports: "'ports'" }): TargetAddress[] {
  const texts = typeof options.target === "string" ? [options.target] : [...options.target];
  if (texts.length === 0) throw new UserError(`${labels.target}: no target given\n  fix: give the HOST:PORT of the UMS (or ICG) behind the load balancer`);
  const targets = texts.map((t) => parseHostPort(t, labels.target));
  const served = servedListeners(stack);
  if (served.length === 0) {
    throw new UserError(
      `${stack.file}: the stack has no HTTPS listener (aws_lb_listener with protocol HTTPS${stack.listeners.length ? `; it has ${stack.listeners.map((l) => `${l.protocol} ${l.port}`).join(", ")}` : ""})\n  fix: give the directory of an ALB stack whose listeners terminate TLS (ums-alb-verify, ums-alb-passthrough, ...)`,
    );
  }
  for (const [listener, local] of Object.entries(options.ports ?? {})) {
    if (!served.some((l) => l.port === Number(listener))) {
      throw new UserError(`${labels.ports}: the stack has no HTTPS listener on port ${listener} (its listeners: ${served.map((l) => l.port).join(", ")})\n  fix: map one of those ports`);
    }
    if (!Number.isInteger(local) || local < 0 || local > 65535) throw new UserError(`${labels.ports}: local port '${local}' for listener ${listener} is not a port number\n  fix: give 0-65535 (0 picks a free port)`);
  }
  if (options.workers !== undefined && (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > 64)) {
    throw new UserError(`'workers': ${options.workers} is not a number of processes\n  fix: give 1 to 64`);
  }
  return targets;
}

/** The serving side, in this process or in worker processes. */
export interface Serving {
  /** Local port per listener port. */
  readonly localPorts: ReadonlyMap<number, number>;
  setHealth(group: string, target: TargetAddress, state: TargetState, reason: string, description: string): void;
  flushLogs(): Promise<void>;
  /** Applies the stack as it is now on disk (see AlbRuntime.reload). */
  reload(): Promise<ReloadChange[]>;
  close(): Promise<void>;
}

export class AlbEmulator {
  constructor(private readonly options: AlbEmulatorOptions) {}

  async start(): Promise<StartedAlbEmulator> {
    const o = this.options;
    // trustStoreLoader hook (s3-trust-store.ts): the trust store from S3 instead of the asset files.
    if (o.trustStoreLoader && (o.workers ?? 1) > 1) throw new UserError("'trustStoreLoader' works with 'workers' 1 only (workers read the stack's files)\n  fix: leave 'workers' at 1");
    const stack = o.trustStoreLoader ? await o.trustStoreLoader(readStack(o.stackDir)) : readStack(o.stackDir);
    const targets = validateAlbEmulatorOptions(o, stack);
    const host = o.host ?? "127.0.0.1";
    const logsDir = o.logsDir ? path.resolve(o.logsDir) : undefined;
    if (logsDir) fs.mkdirSync(logsDir, { recursive: true });
    const writeEvent = eventWriter(logsDir, o.onEvent);
    const settings = { targets, logsDir, accountId: o.accountId ?? DEFAULT_ACCOUNT_ID, targetTimeoutMs: o.targetTimeoutMs, connectTimeoutMs: o.connectTimeoutMs ?? 10_000, emit: writeEvent, nodeIp: host };
    const wanted = new Map(servedListeners(stack).map((l) => [l.port, o.ports?.[l.port] ?? l.port]));

    const readAgain = () => (o.trustStoreLoader ? o.trustStoreLoader(readStack(o.stackDir)) : Promise.resolve(readStack(o.stackDir)));
    const serving: Serving =
      (o.workers ?? 1) > 1
        ? await ClusterRuntime.start({ stackDir: stack.dir, settings: { ...settings, emit: undefined }, host, ports: wanted, workers: o.workers!, execArgv: o.workerExecArgv, onEvent: writeEvent })
        : await startInProcess(stack, settings, host, wanted, readAgain);
    const reloader = new StackReloader(path.join(stack.dir, "cdk.tf.json"), () => serving.reload(), writeEvent, o.stackPollMs ?? 250);

    // Health is checked once, here, and handed to whoever serves.
    const pools = [...stack.targetGroups.values()].map((g) => new TargetGroupPool(g, targets));
    const checker = new HealthChecker(pools, {
      scale: o.healthCheckScale,
      onChange: (c) => {
        serving.setHealth(c.group, c.target, c.to, c.target.reason, c.target.description);
        writeEvent({ kind: "target-health", time: new Date().toISOString(), targetGroup: c.group, target: `${c.target.host}:${c.target.port}`, from: c.from, to: c.to, reason: `${c.target.reason || "healthy"}: ${c.target.description}` });
      },
    });
    // Ready once every target has had its first health check: AWS routes nothing to a target in `initial`.
    await checker.start();

    const listeners: ServedListenerInfo[] = servedListeners(stack).map((l) => {
      const localPort = serving.localPorts.get(l.port)!;
      return { port: l.port, localPort, url: `https://${host.includes(":") ? `[${host}]` : host}:${localPort}`, mtls: l.mutualAuthentication.mode, address: l.address };
    });
    const day = (s: "accessLogs" | "connectionLogs") =>
      logsDir && stack.loadBalancer[s].enabled ? logDayDir({ root: logsDir, prefix: stack.loadBalancer[s].prefix, accountId: settings.accountId, region: stack.region ?? "us-east-1" }, new Date()) : undefined;
    let stopped: Promise<void> | undefined;
    return {
      stack,
      listeners,
      logsDir,
      accessLogDir: day("accessLogs"),
      connectionLogDir: day("connectionLogs"),
      listenerUrl(port: number) {
        const l = listeners.find((x) => x.port === port);
        if (!l) throw new Error(`the stack has no HTTPS listener on port ${port} (listeners: ${listeners.map((x) => x.port).join(", ")})`);
        return l.url;
      },
      targetHealth: () =>
        pools.flatMap((p) => p.targets.map((t) => ({ targetGroup: p.group.address, target: `${t.host}:${t.port}`, state: t.state, reason: t.reason, description: t.description }))),
      flushLogs: () => serving.flushLogs(),
      reload: () => reloader.reloadNow(),
      readyInfo: () => ({
        component: "alb",
        stack: stack.name,
        listeners: Object.fromEntries(listeners.map((l) => [String(l.port), l.url])),
        mtls: Object.fromEntries(listeners.map((l) => [String(l.port), l.mtls])),
        targets: targets.map((t) => `${t.host}:${t.port}`),
        logsDir: logsDir ?? null,
        pid: process.pid,
      }),
      stop() {
        stopped ??= (async () => {
          reloader.stop();
          checker.stop();
          await serving.close();
        })();
        return stopped;
      },
    };
  }
}

/** Binds every listener in this process; on any failure closes what was opened and throws a UserError. */
export async function startInProcess(
  stack: StackModel,
  settings: ConstructorParameters<typeof AlbRuntime>[1],
  host: string,
  wanted: ReadonlyMap<number, number>,
  readAgain: () => Promise<StackModel> = async () => readStack(stack.dir),
): Promise<Serving> {
  const runtime = new AlbRuntime(stack, settings);
  const localPorts = new Map<number, number>();
  try {
    for (const l of runtime.listeners) {
      const local = wanted.get(l.model.port)!;
      try {
        localPorts.set(l.model.port, await l.server.listen(host, local));
      } catch (e) {
        throw listenError(e as NodeJS.ErrnoException, l.model.port, host, local);
      }
    }
  } catch (e) {
    await runtime.close();
    throw e;
  }
  return {
    localPorts,
    setHealth(group, target, state, reason, description) {
      const t = runtime.pools.get(group)?.find(target.host, target.port);
      if (t) Object.assign(t, { state, reason, description });
    },
    flushLogs: () => runtime.flushLogs(),
    reload: async () => runtime.reload(await readAgain()),
    close: () => runtime.close(),
  };
}

export function listenError(e: NodeJS.ErrnoException, listenerPort: number, host: string, local: number): Error {
  if (e.code === "EADDRINUSE") {
    return new UserError(`listener ${listenerPort}: ${host}:${local} is already in use\n  fix: stop what listens there, or map the listener elsewhere (--port ${listenerPort}=<free port>, 0 for any)`);
  }
  if (e.code === "EACCES") {
    return new UserError(`listener ${listenerPort}: not allowed to listen on ${host}:${local} (ports below 1024 need privileges)\n  fix: map the listener to a high port (--port ${listenerPort}=${local + 10000}, or 0 for any)`);
  }
  if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") {
    return new UserError(`listener ${listenerPort}: cannot listen on ${host}: no such local address\n  fix: give a local address such as 127.0.0.1`);
  }
  return e;
}

/** Events go to the caller and, with a log directory, to alb-emulator.log as JSON lines. */
function eventWriter(logsDir: string | undefined, onEvent?: (e: AlbEvent) => void): (e: AlbEvent) => void {
  let chain = Promise.resolve();
  const file = logsDir ? path.join(logsDir, EVENTS_LOG) : undefined;
  return (e) => {
    onEvent?.(e);
    if (file) chain = chain.then(() => fs.promises.appendFile(file, `${JSON.stringify(e)}\n`)).catch(() => undefined);
  };
}
