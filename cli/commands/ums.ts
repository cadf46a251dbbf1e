import type { Command } from "commander";
import { mockUmsCommand } from "../../simulator/ums/main";

/** `ums-edge ums --pki DIR ...`: the mock UMS in the foreground (same flags as simulator/ums/main.ts). */
export function registerUms(program: Command): void {
  program.addCommand(mockUmsCommand("ums", "ums-edge ums").exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2)));
}
