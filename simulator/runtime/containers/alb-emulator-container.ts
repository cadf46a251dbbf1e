import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatS3Url, S3ObjectLocation } from "../../alb/s3-trust-store";
import { UserError } from "../../../core/errors";
import { readStack } from "../../terraform/read-stack";
import type { MtlsMode } from "../../terraform/stack-model";
import { requirePath } from "./component-container";
import { ProcessContainer, ProcessContainerOptions, StartedProcessContainer } from "./process-container";
import type { AlbReadyInfo } from "../../alb/alb-emulator";

/**
 * The ALB emulator in a container (`ums-edge alb --stack /stack --target ...`), configured from a
 * synthesized stack as the real ALB is: `new AlbEmulatorContainer({ stackDir, target }).start()`.
 * It starts on the devices' network (its listeners published) and joins the UMS's internal network;
 * its log directory is a directory of this machine, bind-mounted, so the logs are read as written.
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

export interface AlbEmulatorContainerOptions extends ProcessContainerOptions {
  /** The stack directory on this machine (`cdktf.out/stacks/<name>`, with its assets); copied in. */
  readonly stackDir: string;
  /** The registered targets as the container reaches them, `HOST:PORT`, e.g. the UMS container's `getTargetAddress()`. */
  readonly target: string | readonly string[];
  /** Multiplies health check interval and timeout. @default 0.1 (checks every 3 s instead of 30 s) */
  readonly healthCheckScale?: number;
  /** Write access and connection logs (and alb-emulator.log) under this directory on this machine (bind-mounted). @default a new temporary directory */
  readonly logsDir?: string;
  /** Read the trust store from S3 instead of the stack's asset files. @default the asset files */
  readonly trustStoreS3?: ContainerS3TrustStore;
  /** AWS account ID in log paths and ARNs. @default the emulator's ("123456789012") */
  readonly accountId?: string;
}

/** The line `ums-edge alb` prints when ready. */
export type AlbReadyLine = AlbReadyInfo;

export class AlbEmulatorContainer extends ProcessContainer<"alb"> {
  constructor(options: AlbEmulatorContainerOptions) {
    const stackDir = requirePath("stackDir", options.stackDir, "synthesize the stack first: ums-edge synth --out DIR, then give DIR/stacks/<name>");
    const stack = readStack(stackDir);
    const ports = stack.listeners.filter((l) => l.protocol === "HTTPS").map((l) => l.port);
    if (ports.length === 0) throw new UserError(`'stackDir': ${stack.file} has no HTTPS listener\n  fix: give the directory of an ALB stack (ums-alb-verify, ums-alb-passthrough, ...)`);
    const s3 = options.trustStoreS3;
    const env = s3
      ? { AWS_ACCESS_KEY_ID: s3.credentials?.accessKeyId ?? "test", AWS_SECRET_ACCESS_KEY: s3.credentials?.secretAccessKey ?? "test", AWS_REGION: stack.region ?? "us-east-1", ...options.env }
      : options.env;
    super(
      "alb",
      {
        stack: stackDir,
        targets: typeof options.target === "string" ? [options.target] : [...options.target],
        healthCheckScale: options.healthCheckScale ?? 0.1,
        ports: ports.map((p) => `${p}=${p}`),
        logs: options.logsDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-alb-logs-")),
        accountId: options.accountId,
        trustStoreS3: s3 ? formatS3Url(s3.bundle) : undefined,
        s3Endpoint: s3?.endpoint,
        revocationS3: s3?.revocations?.map(formatS3Url),
      },
      { ...options, env },
      ports,
    );
  }

  override async start(): Promise<StartedAlbEmulatorContainer> {
    return new StartedAlbEmulatorContainer(...(await this.startProcess()));
  }
}

export class StartedAlbEmulatorContainer extends StartedProcessContainer<"alb"> {
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

  /** The log tree on this machine (`AWSLogs/...` as S3 holds it, and alb-emulator.log), written as the emulator runs. */
  getLogsDir(): string {
    return this.paths.find((p) => p.container.endsWith("/logs"))!.host;
  }

  /** Copies the emulator's log tree to `dir` on this machine; returns where it is. */
  async copyLogsTo(dir: string): Promise<string> {
    const target = path.join(dir, "logs");
    fs.cpSync(this.getLogsDir(), target, { recursive: true });
    return target;
  }
}
