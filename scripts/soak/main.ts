#!/usr/bin/env node
/**
 * `npm run soak -- --minutes M --devices N --topology T` (after `npm run build`): issue 15 §5.
 * Exit code 0 when no command was lost or duplicated and every device came back within 30 s of
 * each restart; 1 otherwise; 2 for bad flags.
 */
import { commandFromSpec } from "../../simulator/common/flags";
import { entryAction, runEntry } from "../../simulator/common/process-entry";
import { SOAK_FLAGS, soakPlan } from "./soak-plan";
import { failOnVerdict, runSoak } from "./soak-run";

const program = commandFromSpec(
  "soak",
  "devices online with commands flowing while the UMS and the front restart; a timeline page and a verdict (no command lost or duplicated, every device back within 30 s)",
  SOAK_FLAGS,
  async (o) => failOnVerdict(await runSoak(soakPlan(o))),
  (run) => entryAction("soak", run),
);

if (require.main === module) runEntry(program);
