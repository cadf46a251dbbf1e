import { LocalstackContainer, StartedLocalStackContainer } from "@testcontainers/localstack";
import { UserError } from "../../../core/errors";
import { s3Client } from "../../alb/s3-trust-store";
import type { S3Client } from "@aws-sdk/client-s3";
import { ContainerOutput } from "./container-output";
import { connectEngine } from "./engine";
import { requireImage } from "./images";
import { NetworkRef, networkName, randomSuffix, UMS_EDGE_LABEL } from "./networks";

/**
 * LocalStack through @testcontainers/localstack, for the AWS side of the ALB topologies: the trust
 * store bundle, the CRL and the log bucket live in its S3, and the ALB emulator reads the trust
 * store from there. LocalStack's free edition emulates S3 but not ELBv2 (no trust stores, no
 * mTLS): the load balancer itself stays our emulator.
 */

/**
 * The last LocalStack image that starts without an auth token (4.14.0, February 2026); `latest`
 * and later versions need LOCALSTACK_AUTH_TOKEN since March 2026. Override with env UMS_EDGE_LOCALSTACK_IMAGE.
 */
export const LOCALSTACK_IMAGE = "localstack/localstack:4.14.0";
export const LOCALSTACK_PORT = 4566;

export interface LocalStackOptions {
  /** @default env UMS_EDGE_LOCALSTACK_IMAGE, else LOCALSTACK_IMAGE (pinned) */
  readonly image?: string;
  /** Network it starts on, so the ALB container reaches it by name. @default Docker's default bridge */
  readonly network?: NetworkRef;
  /** @default `ums-edge-localstack-<random>` */
  readonly name?: string;
  /** How long it may take to print "Ready". @default 120000 */
  readonly startupTimeoutMs?: number;
  /** Pull the image when it is not on the engine. @default true */
  readonly pull?: boolean;
  /** Auth token for newer images. @default env LOCALSTACK_AUTH_TOKEN, if set */
  readonly authToken?: string;
  /** Command instead of the image's (a wrapper, or tests of the failure messages). @default the image's */
  readonly command?: readonly string[];
}

export function localStackImage(options: LocalStackOptions = {}): string {
  return options.image ?? (process.env.UMS_EDGE_LOCALSTACK_IMAGE || LOCALSTACK_IMAGE);
}

export class StartedUmsEdgeLocalStack {
  constructor(
    readonly container: StartedLocalStackContainer,
    private readonly region: string,
  ) {}

  /** `http://host:port`: how this process reaches its S3. */
  getConnectionUri(): string {
    return this.container.getConnectionUri();
  }

  /** `http://<container name>:4566`: how containers on its network reach it. */
  getInternalEndpoint(): string {
    return `http://${this.container.getName().replace(/^\//, "")}:${LOCALSTACK_PORT}`;
  }

  /** An S3 client for this process (path-style, LocalStack's test credentials). */
  s3(): S3Client {
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
    return s3Client(this.getConnectionUri(), this.region);
  }

  async stop(): Promise<void> {
    await this.container.stop();
  }
}

/** Starts LocalStack (S3 only); every failure is a UserError saying what to install, pull or set. */
export async function startLocalStack(options: LocalStackOptions = {}, region = "eu-central-1"): Promise<StartedUmsEdgeLocalStack> {
  const image = localStackImage(options);
  const client = await connectEngine();
  await requireImage(client, image, options.pull ?? true);
  const output = new ContainerOutput();
  const timeoutMs = options.startupTimeoutMs ?? 120_000;
  const name = options.name ?? `ums-edge-localstack-${randomSuffix()}`;
  const token = options.authToken ?? process.env.LOCALSTACK_AUTH_TOKEN;
  const container = new LocalstackContainer(image)
    .withName(name)
    .withLabels({ [UMS_EDGE_LABEL]: "true" })
    .withEnvironment({ SERVICES: "s3", ...(token ? { LOCALSTACK_AUTH_TOKEN: token } : {}) })
    .withStartupTimeout(timeoutMs)
    .withLogConsumer((stream) => output.attach(stream));
  if (options.network) container.withNetworkMode(networkName(options.network));
  if (options.command) container.withCommand([...options.command]);
  try {
    return new StartedUmsEdgeLocalStack(await container.start(), region);
  } catch (e) {
    // Only a container of this start (our label, this name) is removed; testcontainers removes it after a failed wait.
    const left = await client.container.dockerode.listContainers({ all: true, filters: JSON.stringify({ name: [`^/${name}$`], label: [`${UMS_EDGE_LABEL}=true`] }) }).catch(() => []);
    for (const c of left) await client.container.dockerode.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    throw localStackStartError(e as Error, image, timeoutMs, output);
  }
}

export function localStackStartError(e: Error, image: string, timeoutMs: number, output: ContainerOutput): UserError {
  const tail = output.lines.length ? `\n--- its last output ---\n${output.tail(10)}` : "";
  if (/auth.?token|license|LOCALSTACK_AUTH_TOKEN/i.test(output.lines.join("\n"))) {
    return new UserError(`LocalStack (${image}) refused to start without an auth token${tail}\n  fix: use ${LOCALSTACK_IMAGE} (the last version that needs none: UMS_EDGE_LOCALSTACK_IMAGE=${LOCALSTACK_IMAGE}), or set LOCALSTACK_AUTH_TOKEN`);
  }
  if (/not received after|Log stream ended/.test(e.message)) {
    const ended = /Log stream ended/.test(e.message);
    return new UserError(
      `LocalStack (${image}) ${ended ? "exited before it was ready" : `was not ready within ${Math.round(timeoutMs / 1000)} s`} (it prints "Ready." when its S3 answers)${tail}\n  fix: ${ended ? "see its output above" : "give it more time ('startupTimeoutMs'), or check that the engine has memory and CPU to spare ('docker stats')"}`,
    );
  }
  return new UserError(`LocalStack (${image}) did not start: ${e.message.split("\n")[0]}${tail}\n  fix: check the Docker engine ('docker info') and the image ('docker image inspect ${image}')`);
}
