import * as fs from "node:fs";
import type { Readable } from "node:stream";
import { AbstractStartedContainer, GenericContainer, StartedTestContainer } from "testcontainers";
import { UserError } from "../../../core/errors";
import { ContainerOutput } from "./container-output";
import { connectEngine } from "./engine";
import { requireImage } from "./images";
import { NetworkRef, networkName, randomSuffix, UMS_EDGE_LABEL } from "./networks";
import { ContainerExitedError, ContainerNotReadyError, ReadyCheck, ReadyWaitStrategy } from "./ready-wait-strategy";

/**
 * The common part of the component containers (mock UMS, ALB emulator, nginx, device fleet, and
 * the ICG when it comes): a testcontainers GenericContainer that
 * - checks the engine and the image first (a UserError naming what to start or build),
 * - is named (`ums-edge-<component>-<random>`: other containers on its networks reach it by that
 *   name through Docker's DNS, no network aliases needed),
 * - starts on one network and joins more before it starts (no default bridge unless asked),
 * - publishes its ports only on a non-internal network (an internal one has no published ports),
 * - keeps its output and is ready when its ready check passes; an exit or a timeout becomes an
 *   error with the component's last output.
 */

/** Options every component container has. */
export interface ComponentContainerOptions {
  /** The image. @default the component's image, `ums-edge/<node|nginx>:<UMS_EDGE_IMAGE_TAG or dev>` */
  readonly image?: string;
  /** Container name, also its host name for other containers on its networks. @default `ums-edge-<component>-<random>` */
  readonly name?: string;
  /** The network it starts on (published ports only if it is not internal). @default Docker's default bridge */
  readonly network?: NetworkRef;
  /** More networks it joins before it starts, e.g. the internal UMS network for a front. @default none */
  readonly extraNetworks?: readonly NetworkRef[];
  /** How long it may take to get ready. @default 30000 */
  readonly startupTimeoutMs?: number;
  /** Extra labels. @default none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Publish its ports on the engine's host (random host ports). Off where this process reaches the container's own address. @default true */
  readonly publishPorts?: boolean;
  /** Also append every line it prints to this file (for reading after the run). @default none */
  readonly logFile?: string;
}

export const COMPONENT_LABEL = "ums-edge.component";
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;

export abstract class ComponentContainer extends GenericContainer {
  protected readonly output = new ContainerOutput();
  protected readonly containerName: string;
  private readonly joinNetworks: string[];
  private readonly publishPorts: boolean;
  private userLogConsumer?: (stream: Readable) => unknown;
  /** The container this start created (removed again if the start fails). */
  private createdId?: string;

  constructor(
    image: string,
    /** What it is, for names and messages: "ums", "alb", "nginx", "devices". */
    protected readonly component: string,
    options: ComponentContainerOptions,
    /** Ports the component listens on inside the container. */
    protected readonly ports: readonly number[],
    ready: ReadyCheck,
  ) {
    super(image);
    this.containerName = options.name ?? `ums-edge-${component}-${randomSuffix()}`;
    this.withName(this.containerName);
    this.withLabels({ [UMS_EDGE_LABEL]: "true", [COMPONENT_LABEL]: component, ...options.labels });
    if (options.network) this.withNetworkMode(networkName(options.network));
    this.joinNetworks = (options.extraNetworks ?? []).map(networkName);
    this.publishPorts = options.publishPorts ?? true;
    if (options.logFile) this.output.tee(options.logFile);
    super.withLogConsumer((stream) => {
      this.output.attach(stream);
      this.userLogConsumer?.(stream);
    });
    this.withWaitStrategy(new ReadyWaitStrategy(this.output, ready));
    this.withStartupTimeout(options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
  }

  /** Adds a consumer of the log stream beside our own (testcontainers allows one). */
  override withLogConsumer(logConsumer: (stream: Readable) => unknown): this {
    this.userLogConsumer = logConsumer;
    return this;
  }

  /** Joins the extra networks after the container is created and before it starts. */
  protected override async containerCreated(containerId: string): Promise<void> {
    this.createdId = containerId;
    const client = await connectEngine();
    for (const name of this.joinNetworks) {
      await client.network.getById(name).connect({ Container: containerId });
    }
  }

  /** Checks engine, image and networks, starts, and waits for the ready check. */
  protected async startComponent(): Promise<{ started: StartedTestContainer; output: ContainerOutput }> {
    const client = await connectEngine();
    await requireImage(client, this.imageName.string);
    const main = this.networkMode;
    for (const name of [main, ...this.joinNetworks]) {
      if (!name) continue;
      try {
        await client.network.getById(name).inspect();
      } catch {
        throw new UserError(`${this.component} container: Docker network '${name}' does not exist\n  fix: start the network first (new ContainerNetwork({ name: '${name}' }).start()), or give one that exists ('docker network ls')`);
      }
    }
    const internal = main ? ((await client.network.getById(main).inspect()) as { Internal?: boolean }).Internal === true : false;
    if (!internal && this.publishPorts && this.ports.length > 0) this.withExposedPorts(...this.ports);
    try {
      const started = await super.start();
      return { started, output: this.output };
    } catch (e) {
      // A container that failed before the wait (e.g. at `start`) is not removed by testcontainers.
      if (this.createdId) {
        await client.container.dockerode
          .getContainer(this.createdId)
          .remove({ force: true, v: true })
          .catch(() => undefined);
      }
      throw this.startError(e as Error);
    }
  }

  private startError(e: Error): Error {
    const what = `the ${this.component} container (${this.imageName.string}, ${this.containerName})`;
    const tail = this.output.lines.length ? `\n--- its last output ---\n${this.output.tail()}` : "";
    if (e instanceof ContainerExitedError) {
      // Our components exit 2 on input the user can fix, and say what in their output.
      const message = `${what} ${e.message}${tail}`;
      return e.exitCode === 2 ? new UserError(message) : new Error(message);
    }
    if (e instanceof ContainerNotReadyError) {
      return new UserError(`${what} ${e.message}${tail}\n  fix: see its output above; on a slow machine give a larger 'startupTimeoutMs'`);
    }
    if (e instanceof UserError) return e;
    return new Error(`${what} did not start: ${e.message}${tail}`);
  }
}

/** A started component container: testcontainers' getters plus its ready line and output. */
export class StartedComponentContainer<Ready extends object> extends AbstractStartedContainer {
  constructor(
    started: StartedTestContainer,
    protected readonly ready: Ready,
    protected readonly output: ContainerOutput,
  ) {
    super(started);
  }

  /** The JSON line the component printed when ready. */
  getReadyLine(): Ready {
    return this.ready;
  }

  /** Every line it printed so far (stdout and stderr), newest last. */
  getOutput(): readonly string[] {
    return this.output.lines;
  }

  /** The lines it printed that are JSON objects (its ready line, events, logs). */
  getJsonLines(): Record<string, unknown>[] {
    return this.output.jsonLines();
  }

  /** Resolves with the first JSON line matching `predicate`, printed already or later. */
  waitForJsonLine(predicate: (json: Record<string, unknown>) => boolean, timeoutMs = 30_000, what = "matching JSON line"): Promise<Record<string, unknown>> {
    return this.output.waitForJson(predicate, timeoutMs, what);
  }

  /** The name other containers on its networks reach it by (Docker DNS). */
  getNetworkHostname(): string {
    return this.getName().replace(/^\//, "");
  }

  /**
   * How this process reaches `port` of the container: the published port when there is one, else
   * its address on its first network (an internal network has no published ports; its address is
   * reachable from the engine's host on Linux, not through Docker Desktop's VM).
   */
  getReachableAddress(port: number): { readonly host: string; readonly port: number } {
    try {
      return { host: this.getHost(), port: this.getMappedPort(port) };
    } catch {
      const network = this.getNetworkNames()[0];
      return { host: this.getIpAddress(network), port };
    }
  }
}

/** Builds the started object once the ready line is there (it was, for the wait to pass). */
export async function readyLine(output: ContainerOutput, predicate: (json: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  return output.waitForJson(predicate, 5000, what);
}

/** A readable host file or directory, or a UserError naming the option. */
export function requirePath(option: string, file: string, fix: string): string {
  if (!fs.existsSync(file)) throw new UserError(`'${option}': '${file}' does not exist\n  fix: ${fix}`);
  return file;
}
