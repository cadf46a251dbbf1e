import type { Command } from "commander";
import { deviceFleetCommand } from "../../simulator/device/main";

/** `ums-edge devices --pki DIR --cluster-url URL ...`: a fleet of fake IGEL OS 12 devices (same flags as simulator/device/main.ts). */
export function registerDevices(program: Command): void {
  program.addCommand(deviceFleetCommand("devices", "ums-edge devices").exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2)));
}
