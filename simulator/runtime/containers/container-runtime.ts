import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { ImageName } from "testcontainers";
import type { S3Client } from "@aws-sdk/client-s3";
import { UserError } from "../../../core/errors";
import { DEVICE_PORT } from "../../../core/igel";
import type { FlagDef } from "../../common/flags";
import { formatS3Url } from "../../alb/s3-trust-store";
import { readStack } from "../../terraform/read-stack";
import { ImiClient, ImiClientOptions } from "../../ums/imi-client";
import type { NginxReverseProxyOptions } from "../../proxy/nginx-reverse-proxy";
import type { ComponentHandle } from "../component-process";
import { COMPONENT_FLAGS, ComponentKind, ProcessOptions, ReadyLine } from "../launch";
import type { Placement, ReverseProxyHandle, Runtime } from "../runtime";
import type { NetworkSide } from "../security-groups/model";
import type { TcpProbeResult } from "../netns/netns-lab";
import { connectEngine } from "./engine";
import { ensureImages, imageName } from "./images";
import { ContainerNetwork, randomSuffix, StartedContainerNetwork } from "./networks";
import { PathMapping, ProcessContainer, StartedProcessContainer } from "./process-container";
import { NginxProxyContainer, StartedNginxProxyContainer } from "./nginx-proxy-container";
import { TcpProbeContainer } from "./probe-container";
import { localStackImage, startLocalStack } from "./localstack";
import { deployStackToS3, logBucket, S3Deployment, trustStoreObjects, uploadLogTree } from "./s3-deployment";

/**
 * The third runtime: every component in its own container, on Docker networks that stand for the
 * sides of design section 1 — the devices' network (the internet side, where this process's flows
 * act as devices) and an internal network (`--internal`: no route in or out) for the private side;
 * a public-side component (ALB emulator, nginx, the ICG of `icg`) joins both. Components start from
 * the options the process runtimes give them: files are copied in, the listen host becomes 0.0.0.0,
 * an address of another container is rewritten to its address on a network the two share, and the
 * ready line comes back with addresses this process can use (the container's own address on its
 * side's first network: this process reaches them through the engine's bridges, measured in
 * docs/containers.md).
 */

/** An S3 API the stacks' buckets live in (LocalStack, or in tests an S3 in this process). */
export interface ContainerS3 {
  /** The endpoint as containers reach it, e.g. `http://<localstack>:4566`. */
  readonly endpoint: string;
  /** A client for this process. */
  readonly client: S3Client;
  /** A network the ALB emulator joins to reach it. @default none */
  readonly network?: string;
  /** One line for the report. */
  readonly description: string;
  stop(): Promise<void>;
}

export interface ContainerRuntimeOptions {
  /** Progress lines (images built or reused, LocalStack used or not). @default none */
  readonly note?: (line: string) => void;
  /**
   * The stacks' S3: `localstack` starts LocalStack where its image is on the engine (else the stack's
   * asset files are used, and a note says so), `none` uses the asset files, a function gives another
   * S3 (it gets the address containers reach this process at). @default "localstack"
   */
  readonly s3?: "localstack" | "none" | ((ctx: { readonly hostAddress: string }) => Promise<ContainerS3>);
  /** How long the engine may take to answer. @default 20000 */
  readonly engineTimeoutMs?: number;
  /** Build or reuse the images first (scripts/containers/build-images.sh). @default true */
  readonly ensureImages?: boolean;
}

/** A container this runtime started: where it is on each network. */
interface Placed {
  readonly name: string;
  readonly addresses: Readonly<Record<string, string>>;
}

const AWS_CREDENTIALS = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" };
const READY_TIMEOUT_MS = 60_000;

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)))]).finally(() => clearTimeout(timer));
}

function isAddressFlag(d: FlagDef): boolean {
  return (d.kind === "string" || d.kind === "list") && (d.value === "<url>" || d.value === "<host:port>");
}

/** A TLS handshake from this process: proves the address is the container (not some proxy on a default route). */
function tlsHandshake(host: string, port: number, timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, timeout: timeoutMs }, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    socket.on("timeout", () => {
      socket.destroy();
      resolve(`no TLS handshake within ${timeoutMs} ms`);
    });
  });
}

/** A component in a container, as every runtime hands it back. */
class ContainerComponent<Ready> implements ComponentHandle<Ready> {
  private stopping?: Promise<void>;
  constructor(
    readonly name: string,
    readonly ready: Ready,
    private readonly container: StartedProcessContainer<ComponentKind>,
    private readonly onStop: () => Promise<void>,
  ) {}
  readonly pid = undefined;
  get running(): boolean {
    return this.container.isRunning();
  }
  jsonLines(): Record<string, unknown>[] {
    return this.container.getJsonLines();
  }
  stop(): Promise<void> {
    // SIGTERM first: the ALB emulator writes its last log lines on the way out.
    this.stopping ??= this.container
      .stop({ timeout: 3000 })
      .then(() => undefined, () => undefined)
      .then(this.onStop);
    return this.stopping;
  }
}

export class ContainerRuntime implements Runtime {
  readonly name = "containers";
  readonly isolated = true;
  /** Files are copied into each container when it starts. */
  readonly seesFileChanges = false;
  /** Each topology has its own containers and addresses; three at once keep a 2-core machine busy while containers start (measured: 7 topologies in 183 s one at a time, 112 s two, 82 s four at once). */
  readonly topologiesAtOnce = Number(process.env.UMS_EDGE_CONTAINER_TOPOLOGIES_AT_ONCE) || 3;
  readonly notProved: readonly string[] = [
    "the stack's own security-group rules: here the isolation comes from the Docker networks (the UMS on an internal network only its front joins); the netns runtime applies the groups' rules themselves",
  ];
  private readonly placed = new Map<string, Placed>();
  private readonly live = new Set<{ stop(): Promise<void> }>();
  private readonly deployments = new Map<string, Promise<S3Deployment>>();
  private reachable = false;
  private seq = 0;
  /** On every container and network of the run: which run, and which process (for removing what a killed run left). */
  private readonly labels: Record<string, string>;

  private constructor(
    readonly runId: string,
    private readonly engine: string,
    private readonly internet: StartedContainerNetwork,
    private readonly private_: StartedContainerNetwork,
    private readonly s3: ContainerS3 | undefined,
    private readonly note: (line: string) => void,
  ) {
    this.labels = runLabels(runId);
  }

  /** Engine, images, networks and (where its image is there) LocalStack; everything is removed again if a step fails. */
  static async start(options: ContainerRuntimeOptions = {}): Promise<ContainerRuntime> {
    const note = options.note ?? (() => undefined);
    const timeoutMs = options.engineTimeoutMs ?? 20_000;
    const where = process.env.DOCKER_HOST ?? "/var/run/docker.sock";
    const client = await withTimeout(connectEngine(), timeoutMs, () => new UserError(`the Docker engine at ${where} did not answer within ${timeoutMs / 1000} s\n  fix: check that it runs ('docker info'), or point DOCKER_HOST at one that does`));
    await removeStaleRuns(note);
    if (options.ensureImages ?? true) await ensureImages(client, note);
    const runId = randomSuffix();
    const created: Array<{ stop(): Promise<unknown> }> = [];
    try {
      const internet = await new ContainerNetwork({ name: `ums-edge-${runId}-internet`, labels: runLabels(runId) }).start();
      created.push(internet);
      const private_ = await new ContainerNetwork({ name: `ums-edge-${runId}-private`, internal: true, labels: runLabels(runId) }).start();
      created.push(private_);
      const s3 = await ContainerRuntime.startS3(options.s3 ?? "localstack", runId, internet, note, created);
      return new ContainerRuntime(runId, `${String(client.info.containerRuntime.serverVersion)} at ${where}`, internet, private_, s3, note);
    } catch (e) {
      for (const c of created.reverse()) await c.stop().catch(() => undefined);
      throw e;
    }
  }

  private static async startS3(choice: NonNullable<ContainerRuntimeOptions["s3"]>, runId: string, internet: StartedContainerNetwork, note: (line: string) => void, created: Array<{ stop(): Promise<unknown> }>): Promise<ContainerS3 | undefined> {
    if (choice === "none") return undefined;
    if (typeof choice === "function") {
      const s3 = await choice({ hostAddress: internet.getGateway() });
      created.push(s3);
      return s3;
    }
    const image = localStackImage();
    if (!(await (await connectEngine()).image.exists(ImageName.fromString(image)))) {
      note(`LocalStack: image ${image} is not on the engine, so the ALB emulator reads its trust store from the stack's asset files and logs stay on disk ('docker pull ${image}' to use LocalStack's S3)`);
      return undefined;
    }
    // Its own network (not internal: testcontainers publishes its port for this process); the ALB joins it.
    const aws = await new ContainerNetwork({ name: `ums-edge-${runId}-aws`, labels: runLabels(runId) }).start();
    created.push(aws);
    const localstack = await startLocalStack({ network: aws, pull: false, name: `ums-edge-${runId}-localstack` });
    created.push(localstack);
    const client = localstack.s3();
    note(`LocalStack: ${image} holds the stacks' buckets; the ALB emulator reads its trust store from its S3`);
    return {
      endpoint: localstack.getInternalEndpoint(),
      client,
      network: aws.getName(),
      description: `LocalStack ${image} (S3: the stacks' buckets, trust store bundles and CRLs read at their object versions, logs delivered to the log buckets)`,
      stop: async () => {
        client.destroy();
        await localstack.stop().catch(() => undefined);
        await aws.stop();
      },
    };
  }

  describe(): string {
    const s3 = this.s3 ? this.s3.description : "the stacks' asset files (no S3)";
    return (
      `containers: Docker engine ${this.engine}; each component its own container (${imageName("node")}, ${imageName("nginx")}); ` +
      `devices' network ${this.internet.getName()} (internet side), internal network ${this.private_.getName()} (private side: no route in or out), public-side components on both; ` +
      `this process acts as the devices and the admin through the engine's bridges; the bypass row is probed from a container on the devices' network; trust store and logs: ${s3}`
    );
  }

  /** Components listen on 0.0.0.0 in their own container. */
  address(): string {
    return "0.0.0.0";
  }

  /** Each container is its own host: components keep their real ports. */
  port(real: number): number {
    return real;
  }

  /** The Docker networks a component on `side` is on, first its own: e.g. where a device container goes. */
  networkNames(side: NetworkSide): string[] {
    return this.networksOf(side).map((n) => n.getName());
  }

  private networksOf(side: NetworkSide): StartedContainerNetwork[] {
    return side === "internet" ? [this.internet] : side === "public" ? [this.internet, this.private_] : [this.private_];
  }

  /** `host` (an address this process uses for a container) as a component on `side` reaches it. */
  private translateHost(host: string, side: NetworkSide): string {
    const p = this.placed.get(host);
    if (!p) return host;
    for (const n of this.networksOf(side)) if (p.addresses[n.getName()]) return p.addresses[n.getName()];
    return host;
  }

  /** Rewrites `https://host:port` or `host:port` for a component on `side`. */
  private translate(value: string, side: NetworkSide): string {
    const m = /^(https?:\/\/)?([^/:]+)(:\d+.*)$/.exec(value);
    return m ? `${m[1] ?? ""}${this.translateHost(m[2], side)}${m[3]}` : value;
  }

  /** The options with every address of one of our containers rewritten for `side` (the flag declaration says which are addresses). */
  private translateOptions<K extends ComponentKind>(kind: K, options: ProcessOptions[K], side: NetworkSide): ProcessOptions[K] {
    const values: Record<string, unknown> = { ...(options as Record<string, unknown>) };
    for (const [key, d] of Object.entries(COMPONENT_FLAGS[kind])) {
      const v = values[key];
      if (!isAddressFlag(d) || v === undefined) continue;
      values[key] = Array.isArray(v) ? v.map((x: string) => this.translate(x, side)) : this.translate(String(v), side);
    }
    return values as ProcessOptions[K];
  }

  /** The ready line with 0.0.0.0 replaced by `address` and container paths by host paths. */
  private readyAsSeenHere<R>(ready: R, address: string, paths: readonly PathMapping[]): R {
    const fix = (s: string): string => {
      let out = s.replace(/(^|\/\/)0\.0\.0\.0(?=$|[:/])/g, `$1${address}`);
      for (const p of paths) if (out === p.container || out.startsWith(`${p.container}/`)) out = p.host + out.slice(p.container.length);
      return out;
    };
    const walk = (v: unknown): unknown => (typeof v === "string" ? fix(v) : Array.isArray(v) ? v.map(walk) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])) : v);
    return walk(ready) as R;
  }

  private register(name: string, started: { getIpAddress(network: string): string; getNetworkNames(): string[] }, side: NetworkSide): string {
    const addresses = Object.fromEntries(started.getNetworkNames().map((n) => [n, started.getIpAddress(n)]));
    const here = addresses[this.networksOf(side)[0].getName()];
    this.placed.set(here, { name, addresses });
    return here;
  }

  /** Once per run: this process must reach the containers' own addresses (the engine's bridges are in its network namespace). */
  private async checkReachable(address: string, port: number, what: string): Promise<void> {
    if (this.reachable) return;
    const failed = await tlsHandshake(address, port);
    if (failed) {
      throw new UserError(
        `this process cannot reach the ${what} container at ${address}:${port} (${failed}): the engine's bridge networks are not in this process's network namespace\n` +
          `  fix: run ums-edge on the machine (or in the network namespace) where dockerd runs, e.g. 'nsenter --net=/run/netns/NS ums-edge simulate --runtime containers' for an engine started as scripts/containers/ci.sh starts it; Docker Desktop's VM is not reachable this way`,
      );
    }
    this.reachable = true;
  }

  private containerName(what: string): string {
    return `ums-edge-${this.runId}-${what}-${++this.seq}`;
  }

  async start<K extends ComponentKind>(kind: K, options: ProcessOptions[K], placement: Placement): Promise<ComponentHandle<ReadyLine[K]>> {
    const side = placement.side;
    const networks = this.networksOf(side);
    let opts = this.translateOptions(kind, options, side);
    let afterStop = async () => {};
    // The placement's environment (the lab's admin password goes to the UMS this way, never on a command line).
    let env: Record<string, string> | undefined = placement.env ? { ...placement.env } : undefined;
    const extraNetworks = networks.slice(1).map((n) => n.getName());
    if (kind === "alb" && this.s3) {
      const viaS3 = await this.albThroughS3(opts as ProcessOptions["alb"]);
      opts = viaS3.options as ProcessOptions[K];
      env = { ...env, ...viaS3.env };
      afterStop = viaS3.afterStop;
      if (this.s3.network) extraNetworks.push(this.s3.network);
    }
    const name = this.containerName(placement.name ?? kind);
    const container = new ProcessContainer(kind, opts, { name, network: networks[0], extraNetworks, publishPorts: false, logFile: placement.logFile, env, startupTimeoutMs: READY_TIMEOUT_MS, labels: this.labels });
    const started = await container.start();
    const address = this.register(name, started, side);
    const ready = this.readyAsSeenHere(started.getReadyLine() as ReadyLine[K], address, started.paths);
    const handle = new ContainerComponent<ReadyLine[K]>(placement.name ?? kind, ready, started, async () => {
      this.placed.delete(address);
      this.live.delete(handle);
      await afterStop();
    });
    this.live.add(handle);
    const port = kind === "alb" ? Number(Object.keys((ready as ReadyLine["alb"]).listeners)[0]) : (ready as { port?: number }).port;
    if (port) {
      try {
        await this.checkReachable(address, port, name);
      } catch (e) {
        await handle.stop();
        throw e;
      }
    }
    return handle;
  }

  /** The ALB reads its trust store bundle and CRLs from S3 at the versions the stack pins; its logs go to the log bucket when it stops. */
  private async albThroughS3(options: ProcessOptions["alb"]): Promise<{ options: ProcessOptions["alb"]; env: Record<string, string>; afterStop: () => Promise<void> }> {
    const s3 = this.s3!;
    const stackDir = path.resolve(options.stack);
    let deployment = this.deployments.get(stackDir);
    if (!deployment) this.deployments.set(stackDir, (deployment = deployStackToS3(stackDir, s3.client)));
    const deployed = await deployment;
    const stack = readStack(stackDir);
    const verify = stack.listeners.some((l) => l.mutualAuthentication.mode === "verify");
    const objects = verify ? trustStoreObjects(stackDir, deployed) : undefined;
    const env = { ...AWS_CREDENTIALS, AWS_REGION: stack.region ?? "us-east-1" };
    const logsDir = options.logs;
    const afterStop = async () => {
      if (!logsDir) return;
      let bucket: string;
      try {
        bucket = logBucket(stackDir, deployed);
      } catch {
        return; // the stack writes no logs to a bucket
      }
      const keys = await uploadLogTree(s3.client, logsDir, bucket).catch((e: Error) => {
        this.note(`S3: delivering the ALB's logs to s3://${bucket} failed: ${e.message}`);
        return [];
      });
      if (keys.length) this.note(`S3: ${keys.length} log object(s) delivered to s3://${bucket}/ (${[...new Set(keys.map((k) => k.split("/AWSLogs/")[0]))].join(", ")})`);
    };
    if (!objects) return { options, env, afterStop };
    return {
      options: { ...options, trustStoreS3: formatS3Url(objects.bundle), revocationS3: objects.revocations.map(formatS3Url), s3Endpoint: s3.endpoint },
      env,
      afterStop,
    };
  }

  async startReverseProxy(options: Omit<NginxReverseProxyOptions, "host" | "port" | "commandPrefix">, placement: Placement): Promise<ReverseProxyHandle> {
    const networks = this.networksOf(placement.side);
    const dir = path.resolve(options.dir);
    fs.mkdirSync(dir, { recursive: true });
    const name = this.containerName(placement.name ?? "nginx");
    const started: StartedNginxProxyContainer = await new NginxProxyContainer({
      certificateChain: options.certificateChain,
      privateKey: options.privateKey,
      clientCaChain: options.clientCaChain,
      crl: options.crl,
      upstream: this.translate(options.upstream, placement.side),
      forwardedCertHeader: options.forwardedCertHeader,
      clientCertificateRequiredPaths: options.clientCertificateRequiredPaths,
      verifyDepth: options.verifyDepth,
      port: DEVICE_PORT,
      logsDir: dir,
      name,
      network: networks[0],
      extraNetworks: networks.slice(1),
      logFile: path.join(dir, "nginx-output.log"),
      labels: this.labels,
    }).start();
    const address = this.register(name, started, placement.side);
    const handle = {
      url: `https://${address}:${DEVICE_PORT}`,
      logs: { access: path.join(dir, "access.log"), error: path.join(dir, "error.log") },
      stop: async () => {
        this.placed.delete(address);
        this.live.delete(handle);
        await started.stop({ timeout: 3000 }).catch(() => undefined);
      },
    };
    this.live.add(handle);
    return handle;
  }

  /** Isolation is the networks' (created once per run); there are no rules to apply. */
  async isolate(): Promise<void> {}

  /** A TCP connect from a probe container on `from`'s networks. */
  probe(from: NetworkSide, host: string, port: number): Promise<TcpProbeResult> {
    const networks = this.networksOf(from);
    return new TcpProbeContainer({ host, port, timeoutMs: 1500, name: this.containerName(`probe-${from}`), network: networks[0], extraNetworks: networks.slice(1), publishPorts: false, labels: this.labels }).probe();
  }

  /** The admin's requests go from this process, which is on the internal network's bridge (the company network). */
  async adminClient(options: ImiClientOptions): Promise<ImiClient> {
    return new ImiClient(options);
  }

  /** Stops what still runs, LocalStack, and removes the networks. */
  async stop(): Promise<void> {
    for (const c of [...this.live]) await c.stop().catch(() => undefined);
    await this.s3?.stop().catch(() => undefined);
    for (const n of [this.private_, this.internet]) await n.stop().catch(() => undefined);
  }
}

const RUN_LABEL = "ums-edge.run";
const PID_LABEL = "ums-edge.pid";

function runLabels(runId: string): Record<string, string> {
  return { [RUN_LABEL]: runId, [PID_LABEL]: `${os.hostname()}/${process.pid}` };
}

/** True when the process that labelled a run is gone (a run killed before it could clean up). */
function ownerGone(label: string | undefined): boolean {
  const [host, pid] = (label ?? "").split("/");
  if (host !== os.hostname() || !Number(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Removes the containers and networks of runs on this machine whose process is gone (killed, e.g. with Ctrl-C). */
async function removeStaleRuns(note: (line: string) => void): Promise<void> {
  const docker = (await connectEngine()).container.dockerode;
  const filters = JSON.stringify({ label: [PID_LABEL] });
  const containers = (await docker.listContainers({ all: true, filters })).filter((c) => ownerGone(c.Labels[PID_LABEL]));
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  const networks = (await docker.listNetworks({ filters })).filter((n) => ownerGone(n.Labels?.[PID_LABEL]));
  for (const n of networks) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  if (containers.length || networks.length) note(`removed ${containers.length} container(s) and ${networks.length} network(s) left by an earlier run that was stopped before it could clean up`);
}
