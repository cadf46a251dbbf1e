import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { formatS3Url, S3ObjectLocation } from "../../alb/s3-trust-store";
import { UserError } from "../../../core/errors";
import { readStack } from "../../terraform/read-stack";
import type { MtlsMode } from "../../terraform/stack-model";
import { ComponentContainer, ComponentContainerOptions, readyLine, requirePath, StartedComponentContainer } from "./component-container";
import { imageName } from "./images";
import { ENTRIES, READY_LINE } from "../launch";
import { albArgs } from "../../alb/process-options";
import type { AlbReadyInfo } from "../../alb/alb-emulator";

/**
 * The ALB emulator in a container (`ums-edge alb --stack /stack --target ...`), configured from a
 * synthesized stack as the real ALB is: `new AlbEmulatorContainer({ stackDir, target }).start()`.
 * It starts on the devices' network (its listeners published) and joins the UMS's internal network.
 */

/** The trust store read through the S3 API (LocalStack's), as the real ALB reads it. */
export interface ContainerS3TrustStore {
  /** S3 endpoint as the container reaches it, e.g. `http://<localstack container>:4566`. */
  readonly endpoint: string;
  readonly bundle: S3ObjectLocation;
  /** @default none */
  readonly revocations?: readonly S3ObjectLocation[];
  /** Credentials the container gets (LocalStack accepts any). @default test / test */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface AlbEmulatorContainerOptions extends ComponentContainerOptions {
  /** The stack directory on this machine (`cdktf.out/stacks/<name>`, with its assets); copied to /stack. */
  readonly stackDir: string;
  /** The registered targets as the container reaches them, `HOST:PORT`, e.g. the UMS container's `getTargetAddress()`. */
  readonly target: string | readonly string[];
  /** Multiplies health check interval and timeout. @default 0.1 (checks every 3 s instead of 30 s) */
  readonly healthCheckScale?: number;
  /** Write access and connection logs in the container (/logs), for `copyLogsTo`. @default true */
  readonly logs?: boolean;
  /** Read the trust store from S3 instead of the stack's asset files. @default the asset files */
  readonly trustStoreS3?: ContainerS3TrustStore;
  /** AWS account ID in log paths and ARNs. @default the emulator's ("123456789012") */
  readonly accountId?: string;
}

/** The line `ums-edge alb` prints when ready. */
export type AlbReadyLine = AlbReadyInfo;

const isAlbReady = READY_LINE.alb;
const LOGS_IN_CONTAINER = "/logs";

export class AlbEmulatorContainer extends ComponentContainer {
  constructor(options: AlbEmulatorContainerOptions) {
    const stackDir = requirePath("stackDir", options.stackDir, "synthesize the stack first: ums-edge synth --out DIR, then give DIR/stacks/<name>");
    const stack = readStack(stackDir);
    const ports = stack.listeners.filter((l) => l.protocol === "HTTPS").map((l) => l.port);
    if (ports.length === 0) throw new UserError(`'stackDir': ${stack.file} has no HTTPS listener\n  fix: give the directory of an ALB stack (ums-alb-verify, ums-alb-passthrough, ...)`);
    super(options.image ?? imageName("node"), "alb", options, ports, (out) => out.find(isAlbReady) !== undefined);
    const s3 = options.trustStoreS3;
    const args = albArgs({
      stack: "/stack",
      targets: typeof options.target === "string" ? [options.target] : [...options.target],
      host: "0.0.0.0",
      healthCheckScale: options.healthCheckScale ?? 0.1,
      ports: ports.map((p) => `${p}=${p}`),
      logs: (options.logs ?? true) ? LOGS_IN_CONTAINER : undefined,
      accountId: options.accountId,
      trustStoreS3: s3 ? formatS3Url(s3.bundle) : undefined,
      s3Endpoint: s3?.endpoint,
      revocationS3: s3?.revocations?.map(formatS3Url),
    });
    if (s3) {
      this.withEnvironment({
        AWS_ACCESS_KEY_ID: s3.credentials?.accessKeyId ?? "test",
        AWS_SECRET_ACCESS_KEY: s3.credentials?.secretAccessKey ?? "test",
        AWS_REGION: stack.region ?? "us-east-1",
      });
    }
    this.withCommand([ENTRIES.alb, ...args]);
    this.withCopyDirectoriesToContainer([{ source: stackDir, target: "/stack" }]);
  }

  override async start(): Promise<StartedAlbEmulatorContainer> {
    const { started, output } = await this.startComponent();
    return new StartedAlbEmulatorContainer(started, (await readyLine(output, isAlbReady, "ALB ready line")) as unknown as AlbReadyLine, output);
  }
}

export class StartedAlbEmulatorContainer extends StartedComponentContainer<AlbReadyLine> {
  /** The stack's HTTPS listener ports. */
  getListenerPorts(): number[] {
    return Object.keys(this.ready.listeners).map(Number);
  }

  /** mTLS mode of a listener. */
  getMtlsMode(listenerPort: number): MtlsMode {
    const mode = this.ready.mtls[String(listenerPort)];
    if (!mode) throw new Error(`the stack has no HTTPS listener on port ${listenerPort} (listeners: ${this.getListenerPorts().join(", ")})`);
    return mode;
  }

  /** `https://<container name>:<port>`: how devices on its network reach a listener. */
  getInternalListenerUrl(listenerPort: number): string {
    this.getMtlsMode(listenerPort);
    return `https://${this.getNetworkHostname()}:${listenerPort}`;
  }

  /** How this process reaches a listener (its published port). */
  getListenerUrl(listenerPort: number): string {
    this.getMtlsMode(listenerPort);
    const a = this.getReachableAddress(listenerPort);
    return `https://${a.host}:${a.port}`;
  }

  /** Copies the emulator's log tree (`AWSLogs/...` as S3 holds it, and alb-emulator.log) to `dir` on this machine. */
  async copyLogsTo(dir: string): Promise<string> {
    fs.mkdirSync(dir, { recursive: true });
    const archive = await this.copyArchiveFromContainer(LOGS_IN_CONTAINER);
    await new Promise<void>((resolve, reject) => {
      const tar = spawn("tar", ["-x", "-C", dir], { stdio: ["pipe", "ignore", "pipe"] });
      let stderr = "";
      tar.stderr!.on("data", (d) => (stderr += d));
      tar.on("error", reject);
      tar.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`tar -x failed: ${stderr.trim()}`))));
      archive.pipe(tar.stdin!);
    });
    return path.join(dir, path.basename(LOGS_IN_CONTAINER));
  }
}
