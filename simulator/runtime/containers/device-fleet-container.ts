import type { LabPki } from "../../pki/lab-pki";
import type { LabDeviceKind } from "../../pki";
import { UserError } from "../../../core/errors";
import { requirePath } from "./component-container";
import { ProcessContainer, ProcessContainerOptions, StartedProcessContainer } from "./process-container";
import { pkiDir } from "./mock-ums-container";

/**
 * A fleet of fake IGEL OS 12 devices in a container (`node dist/simulator/device/main.js`), on
 * the devices' network: `new DeviceFleetContainer({ pki, clusterUrl, count, enrollmentKeys }).start()`.
 * It prints a line per device event; the getters wait for and read them.
 */

export interface DeviceFleetContainerOptions extends ProcessContainerOptions {
  /** The lab PKI (directory on this machine); copied into the container at /pki. */
  readonly pki: string | LabPki;
  /** Cluster address as the container reaches it, e.g. `https://<alb container>:8443`. */
  readonly clusterUrl: string;
  /** OS 12 device enrollment address (an ALB in verify mode: its 443 listener). @default clusterUrl */
  readonly enrollmentUrl?: string;
  /** Devices that onboard. @default 0 */
  readonly count?: number;
  /** One-time enrollment keys, one per onboarding device. @default none */
  readonly enrollmentKeys?: readonly string[];
  /** Devices with a lab certificate, no onboarding (`good`, `revoked`, `untrusted`, ...). @default none */
  readonly identities?: readonly LabDeviceKind[];
  /** Consecutive failures before a device gives up. @default never (1 for identity devices) */
  readonly maxAttempts?: number;
  /** Timeout of onboarding and of TLS + upgrade + welcome, ms. @default 10000 */
  readonly handshakeTimeoutMs?: number;
  /** Reconnect backoff, ms. @default the fleet's (1000 .. 60000) */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Simulated boot time after a reboot, ms. @default 2000 */
  readonly bootMs?: number;
  /** Host names the devices resolve to addresses (/etc/hosts), e.g. the cluster FQDN → the front's IP. @default none */
  readonly hosts?: Readonly<Record<string, string>>;
  /** Print the stats and exit once every device has settled. @default false */
  readonly exitWhenSettled?: boolean;
}

/** The `settled` / `stats` line: the fleet's statistics. */
export interface FleetStatsLine {
  readonly event: "settled" | "stats";
  readonly devices: number;
  /** Devices per state, e.g. `{ online: 3 }` or `{ failed: 1 }`. */
  readonly states: Readonly<Record<string, number>>;
  /** Last refusal of each device, described, with how many devices had it. */
  readonly lastRefusals: Readonly<Record<string, number>>;
  readonly [key: string]: unknown;
}

export interface DeviceEventLine {
  readonly event: "device";
  readonly type: string;
  readonly unitId: string;
  readonly [key: string]: unknown;
}

export class DeviceFleetContainer extends ProcessContainer<"devices"> {
  constructor(options: DeviceFleetContainerOptions) {
    const dir = requirePath("pki", pkiDir(options.pki), "create one with 'ums-edge pki init --dir DIR' (or initLabPki(dir))");
    const count = options.count ?? 0;
    if (!Number.isInteger(count) || count < 0) throw new UserError(`'count': ${count} is not a number of devices`);
    if ((options.enrollmentKeys?.length ?? 0) < count) {
      throw new UserError(`'enrollmentKeys': ${options.enrollmentKeys?.length ?? 0} key(s) for ${count} onboarding device(s)\n  fix: give one one-time key per device (the UMS's --enrollment-key, or mint them through the IMI API)`);
    }
    super(
      "devices",
      {
        pki: dir,
        clusterUrl: options.clusterUrl,
        count,
        enrollmentUrl: options.enrollmentUrl,
        enrollmentKeys: options.enrollmentKeys,
        identities: options.identities,
        maxAttempts: options.maxAttempts,
        handshakeTimeoutMs: options.handshakeTimeoutMs,
        bootMs: options.bootMs,
        backoffInitialMs: options.backoff?.initialMs,
        backoffMaxMs: options.backoff?.maxMs,
        exitWhenSettled: options.exitWhenSettled || undefined,
      },
      options,
    );
    const hosts = Object.entries(options.hosts ?? {});
    if (hosts.length) this.withExtraHosts(hosts.map(([host, ipAddress]) => ({ host, ipAddress })));
  }

  override async start(): Promise<StartedDeviceFleetContainer> {
    return new StartedDeviceFleetContainer(...(await this.startProcess()));
  }
}

export class StartedDeviceFleetContainer extends StartedProcessContainer<"devices"> {
  /** Device events printed so far, oldest first. */
  getDeviceEvents(): DeviceEventLine[] {
    return this.getJsonLines().filter((j) => j.event === "device") as DeviceEventLine[];
  }

  /** Unit IDs of the devices that came online at least once. */
  getOnlineUnitIds(): string[] {
    return [...new Set(this.getDeviceEvents().filter((e) => e.type === "online").map((e) => e.unitId))];
  }

  /** Resolves once `n` devices came online; rejects with the fleet's output after `timeoutMs`. */
  async waitForOnline(n: number, timeoutMs = 30_000): Promise<string[]> {
    await this.waitForJsonLine(() => this.getOnlineUnitIds().length >= n, timeoutMs, `${n} device(s) online`);
    return this.getOnlineUnitIds();
  }

  /** Resolves with the `settled` line: every device online, off, failed or replaced. */
  async waitForSettled(timeoutMs = 30_000): Promise<FleetStatsLine> {
    return (await this.waitForJsonLine((j) => j.event === "settled", timeoutMs, "the fleet's 'settled' line")) as FleetStatsLine;
  }
}
