import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { LabPki } from "../../pki/lab-pki";
import { UserError } from "../../../core/errors";
import { DEVICE_PORT } from "../../../core/igel";
import type { UmsReadyLine } from "../../ums/process-options";
import { requirePath } from "./component-container";
import { ProcessContainer, ProcessContainerOptions, StartedProcessContainer } from "./process-container";

/**
 * The mock UMS in a container (`node dist/simulator/ums/main.js`), as a testcontainers module:
 * `new MockUmsContainer({ pki }).start()` → StartedMockUmsContainer. In the ALB and proxy
 * topologies it runs on an internal network only the front also joins.
 */

export interface MockUmsContainerOptions extends ProcessContainerOptions {
  /** The lab PKI (directory on this machine, `ums-edge pki init`); copied into the container. */
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
}

/** The port the UMS listens on in its container (IGEL's device port). */
export const UMS_PORT = DEVICE_PORT;

export function pkiDir(pki: string | LabPki): string {
  return typeof pki === "string" ? pki : pki.dir;
}

/** application.yml content as a file the container copies in (the component reads a file). */
function appConfigFile(content: string | undefined): string | undefined {
  if (content === undefined) return undefined;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-app-config-")), "application.yml");
  fs.writeFileSync(file, content);
  return file;
}

export class MockUmsContainer extends ProcessContainer<"ums"> {
  constructor(private readonly options: MockUmsContainerOptions) {
    const dir = requirePath("pki", pkiDir(options.pki), "create one with 'ums-edge pki init --dir DIR' (or initLabPki(dir))");
    const int = (field: string, v: number | undefined) => {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UserError(`'${field}': ${v} is not a positive integer`);
      return v;
    };
    super(
      "ums",
      {
        pki: dir,
        port: UMS_PORT,
        enrollmentKeys: options.enrollmentKeys,
        heartbeatMs: int("heartbeatMs", options.heartbeatMs),
        appSizeBytes: int("appSizeBytes", options.appSizeBytes),
        checkRevocation: options.checkRevocation === false ? false : undefined,
        appConfig: appConfigFile(options.appConfig),
      },
      options,
      [UMS_PORT],
    );
  }

  override async start(): Promise<StartedMockUmsContainer> {
    return new StartedMockUmsContainer(await this.startProcess(), this.options);
  }
}

export class StartedMockUmsContainer extends StartedProcessContainer<"ums"> {
  constructor(
    started: ConstructorParameters<typeof StartedProcessContainer<"ums">>,
    private readonly options: MockUmsContainerOptions,
  ) {
    super(...started);
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

  /** The IMI credentials: the password the UMS made up (its ready line), unless one was given. */
  getAdminCredentials(): { username: string; password: string } {
    return { username: this.ready.adminUser, password: this.ready.adminPassword ?? process.env.UMS_EDGE_ADMIN_PASSWORD ?? "" };
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
