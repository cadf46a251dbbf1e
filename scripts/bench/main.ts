#!/usr/bin/env node
/**
 * The benchmarks' command line (after `npm run build`), one commander program:
 *
 *   npm run bench [-- --quick] [-- --only synth,alb,fleet,memory,latency] [--devices N] ...
 *   npm run bench:synth [-- --config FILE --runs N]          (bench synth)
 *   npm run bench:alb [-- --duration MS --rounds N ...]      (bench alb)
 *
 * `bench` runs every benchmark (or those --only names) and writes reports/bench/<bench>.json and
 * reports/bench/bench.html; a sub-bench writes its JSON only. Exit code 1 names every target
 * missed or not measured. `--quick` is the CI run: small, its figures printed, only the orderings
 * asserted (a shared CI machine is too slow for the scale targets, and a quick run too small).
 */
import type { Command } from "commander";
import { commandFromSpec } from "../../simulator/common/flags";
import { entryAction, runEntry } from "../../simulator/common/process-entry";
import { ALB_COMMAND_FLAGS, BENCH_FLAGS, SYNTH_COMMAND_FLAGS, benchPlan } from "./plan";
import { runBench } from "./run-bench";
import { CORES } from "./progress";

const guard = <F>(run: (flags: F) => Promise<void>) => entryAction("bench", run);
const usageErrorsExit2 = (c: Command) => c.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

export function benchProgram(): Command {
  const program = commandFromSpec(
    "bench",
    "every benchmark: synthesis, the ALB emulator against nginx, fleets at scale, held-session memory, command latency per topology",
    BENCH_FLAGS,
    (o) => runBench(benchPlan(o, CORES), { page: true }),
    guard,
  );
  program.addCommand(
    usageErrorsExit2(commandFromSpec("synth", "cold synthesis of every stack of a config, each in a fresh process", SYNTH_COMMAND_FLAGS, (o) => runBench(benchPlan({ ...o, only: "synth" }, CORES), { page: false }), guard)),
  );
  program.addCommand(
    usageErrorsExit2(commandFromSpec("alb", "the ALB emulator against nginx and a bare Node TLS server", ALB_COMMAND_FLAGS, (o) => runBench(benchPlan({ ...o, only: "alb" }, CORES), { page: false }), guard)),
  );
  return program;
}

if (require.main === module) runEntry(benchProgram());
