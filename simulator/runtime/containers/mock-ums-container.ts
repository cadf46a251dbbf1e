import type { LabPki } from "../../pki/lab-pki";
import { UserError } from "../../../core/errors";
import { ComponentContainer, ComponentContainerOptions, readyLine, requirePath, StartedComponentContainer } from "./component-container";
import { imageName } from "./images";
import { ENTRIES, READY_LINE } from "../launch";
import { umsArgs, UmsReadyLine } from "../../ums/process-options";

/**
 * The mock UMS in a container (`node dist/simulator/ums/main.js`), as a testcontainers module:
 * `new MockUmsContainer({ pki }).start()` → StartedMockUmsContainer. In the ALB and proxy
 * topologies it runs on an internal network only the front also joins.
 */

export interface MockUmsContainerOptions extends ComponentContainerOptions {
  /** The lab PKI (directory on this machine, `ums-edge pki init`); copied into the container at /pki. */
  readonly pki: string | LabPki;
  /** Content of the UMS application.yml (`igel.client-cert-forwarding`), e.g. a stack's `ums_application_yml` output. @default none: forwarding off */
  readonly appConfig?: string;
  /** One-time enrollment keys valid from the start. @default none (mint them through the IMI API) */
  readonly enrollmentKeys?: readonly string[];
  /** Heartbeat interval told to devices, ms. @default the UMS's (30000) */
  readonly heartbeatMs?: number;
  /** Size of each app the update proxy serves, bytes. @default the UMS's (262144) */
  readonly appSizeBytes?: number;
  /** Check device certificates against the lab CRL. @default true */
  readonly checkRevocation?: boolean;
  /** More flags of `simulator/ums/main.ts`. @default none */
  readonly extraArgs?: readonly string[];
}

/** The port the UMS listens on in its container (IGEL's device port). */
export const UMS_PORT = 8443;
const PKI_IN_CONTAINER = "/pki";
const APP_CONFIG_IN_CONTAINER = "/etc/ums/application.yml";

export function pkiDir(pki: string | LabPki): string {
  return typeof pki === "string" ? pki : pki.dir;
}

const isUmsReady = READY_LINE.ums;

export class MockUmsContainer extends ComponentContainer {
  private readonly options: MockUmsContainerOptions;

  constructor(options: MockUmsContainerOptions) {
    super(options.image ?? imageName("node"), "ums", options, [UMS_PORT], (out) => out.find(isUmsReady) !== undefined);
    this.options = options;
    const dir = requirePath("pki", pkiDir(options.pki), "create one with 'ums-edge pki init --dir DIR' (or initLabPki(dir))");
    const int = (field: string, v: number | undefined) => {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UserError(`'${field}': ${v} is not a positive integer`);
      return v;
    };
    if (options.appConfig !== undefined) this.withCopyContentToContainer([{ content: options.appConfig, target: APP_CONFIG_IN_CONTAINER }]);
    const args = umsArgs({
      pki: PKI_IN_CONTAINER,
      host: "0.0.0.0",
      port: UMS_PORT,
      enrollmentKeys: options.enrollmentKeys,
      heartbeatMs: int("heartbeatMs", options.heartbeatMs),
      appSizeBytes: int("appSizeBytes", options.appSizeBytes),
      checkRevocation: options.checkRevocation === false ? false : undefined,
      appConfig: options.appConfig !== undefined ? APP_CONFIG_IN_CONTAINER : undefined,
    });
    this.withCommand([ENTRIES.ums, ...args, ...(options.extraArgs ?? [])]);
    this.withCopyDirectoriesToContainer([{ source: dir, target: PKI_IN_CONTAINER }]);
  }

  override async start(): Promise<StartedMockUmsContainer> {
    const { started, output } = await this.startComponent();
    return new StartedMockUmsContainer(started, (await readyLine(output, isUmsReady, "UMS ready line")) as unknown as UmsReadyLine, output, this.options);
  }
}

export class StartedMockUmsContainer extends StartedComponentContainer<UmsReadyLine> {
  constructor(
    started: ConstructorParameters<typeof StartedComponentContainer>[0],
    ready: UmsReadyLine,
    output: ConstructorParameters<typeof StartedComponentContainer>[2],
    private readonly options: MockUmsContainerOptions,
  ) {
    super(started, ready, output);
  }

  /** `https://<container name>:8443`: how devices and fronts on its networks reach it. */
  getInternalUrl(): string {
    return `https://${this.getNetworkHostname()}:${UMS_PORT}`;
  }

  /** `<container name>:8443`, an ALB emulator's `--target`. */
  getTargetAddress(): string {
    return `${this.getNetworkHostname()}:${UMS_PORT}`;
  }

  /** How this process reaches it (the admin's side): published port, or its address on an internal network. */
  getUrl(): string {
    const a = this.getReachableAddress(UMS_PORT);
    return `https://${a.host}:${a.port}`;
  }

  /** The cluster FQDN its web certificate is for (TLS server name). */
  getFqdn(): string {
    return this.ready.fqdn;
  }

  getAdminUser(): string {
    return this.ready.adminUser;
  }

  /** The forwarding it read from application.yml (`enabled: false` without one). */
  getForwarding(): UmsReadyLine["forwarding"] {
    return this.ready.forwarding;
  }

  /** The lab PKI directory on this machine. */
  getPkiDir(): string {
    return pkiDir(this.options.pki);
  }
}
