import type { LabPki } from "../../pki/lab-pki";
import type { IcgReadyLine } from "../../icg/process-options";
import { DEVICE_PORT } from "../../../core/igel";
import { ProcessContainer, ProcessContainerOptions, StartedProcessContainer } from "./process-container";
import { pkiDir } from "./mock-ums-container";

/**
 * The IGEL Cloud Gateway in a container (`node dist/simulator/icg/main.js`), as a testcontainers
 * module: `new IcgContainer({ pki, network, extraNetworks }).start()`. Devices reach it on 8443; the
 * UMS connects out to it (`--icg https://<icg container>:8443`) from the internal network, so in the
 * `icg` topology it joins both the devices' network and the UMS's.
 */

export interface IcgContainerOptions extends ProcessContainerOptions {
  /** The lab PKI (directory on this machine): the ICG certificate and the gateway CA; copied in. */
  readonly pki: string | LabPki;
  /** An application.yml on this machine with igel.client-cert-forwarding (behind an ALB). @default forwarding off */
  readonly appConfig?: string;
}

export class IcgContainer extends ProcessContainer<"icg"> {
  constructor(options: IcgContainerOptions) {
    super("icg", { pki: pkiDir(options.pki), appConfig: options.appConfig, port: DEVICE_PORT }, options, [DEVICE_PORT]);
  }

  override async start(): Promise<StartedIcgContainer> {
    return new StartedIcgContainer(...(await this.startProcess()));
  }
}

export class StartedIcgContainer extends StartedProcessContainer<"icg"> {
  /** `https://<container name>:8443`: how devices and the UMS on its networks reach it. */
  getInternalUrl(): string {
    return `https://${this.getNetworkHostname()}:${DEVICE_PORT}`;
  }

  /** The name in its certificate (what the UMS checks). */
  getServerName(): string {
    return (this.getReadyLine() as IcgReadyLine).serverName;
  }
}
