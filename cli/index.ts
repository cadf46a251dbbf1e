#!/usr/bin/env node
/** The `ums-edge` command: parses arguments and calls into stacks/ and simulator/. */
import { Command } from "commander";
import { registerSynth } from "./commands/synth";
import { registerPki } from "./commands/pki";
import { registerAlb } from "./commands/alb";
import { registerDoctor } from "./commands/doctor";
import { registerLint } from "./commands/lint";
import { registerSimulate } from "./commands/simulate";
import { registerLab } from "./commands/lab";
import { registerUms } from "./commands/ums";
import { registerDevices } from "./commands/devices";
import { registerIcg } from "./commands/icg";

export function buildProgram(): Command {
  const program = new Command("ums-edge")
    .description("Put an IGEL UMS 12 or ICG behind an AWS ALB with mutual TLS, and prove it before deploying.")
    .showHelpAfterError()
    .exitOverride((err) => {
      // commander's own usage errors: exit 2 like every other bad input.
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  registerSynth(program);
  registerPki(program);
  registerAlb(program);
  registerDoctor(program);
  registerLint(program);
  registerSimulate(program);
  registerLab(program);
  registerUms(program);
  registerDevices(program);
  registerIcg(program);
  return program;
}

if (require.main === module) {
  buildProgram().parseAsync(process.argv);
}
