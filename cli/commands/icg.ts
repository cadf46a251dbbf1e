import type { Command } from "commander";
import { icgCommand } from "../../simulator/icg/main";

/** `ums-edge icg --pki DIR ...`: the ICG in the foreground (same flags as simulator/icg/main.ts). */
export function registerIcg(program: Command): void {
  program.addCommand(icgCommand("icg", "ums-edge icg").exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2)));
}
