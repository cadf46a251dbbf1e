import { UserError } from "../core/errors";
import { loadConfig } from "../stacks/config/load-config";
import { labPkiCertificates } from "../simulator/pki/lab-pki";
import { isTopologyName, ALL_TOPOLOGIES, HA_TOPOLOGIES, TOPOLOGIES, TopologyName, topologyDefinition } from "../simulator/runtime/topologies/definitions";
import type { RuntimeChoice } from "../simulator/runtime/runtime";

/** `--runtime` values of simulate and lab up. */
export const RUNTIME_CHOICES: readonly RuntimeChoice[] = ["auto", "loopback", "netns", "containers"];

export function runtimeChoice(value: string): RuntimeChoice {
  if (!(RUNTIME_CHOICES as readonly string[]).includes(value)) throw new UserError(`--runtime: unknown runtime '${value}'\n  fix: use ${RUNTIME_CHOICES.join(", ")}`);
  return value as RuntimeChoice;
}

/**
 * The topologies `--topology` names, checked before anything starts. With `--config`, `all` is the
 * topologies of the config's stacks, and naming one whose stack the config does not list (or one
 * without a stack: reverse-proxy, icg) is refused, naming the field and the fix.
 */
export async function topologiesFor(value: string, configFile?: string): Promise<TopologyName[]> {
  // `all` is every topology but the opt-in ones; `ha` the UMS HA cluster ones (all,ha: both).
  const names = [...new Set(value.split(",").flatMap((v) => (v.trim() === "all" ? [...TOPOLOGIES] : v.trim() === "ha" ? [...HA_TOPOLOGIES] : [v.trim()])))];
  for (const n of names) {
    if (!isTopologyName(n)) throw new UserError(`--topology: unknown topology '${n}'\n  fix: use one of ${ALL_TOPOLOGIES.join(", ")}, all or ha`);
  }
  if (!configFile) return names as TopologyName[];
  const config = await loadConfig(configFile, { labPki: labPkiCertificates });
  const variants = new Set(config.stacks.map((s) => s.variant));
  const ofConfig = (n: TopologyName) => {
    const stack = topologyDefinition(n).stack;
    return stack !== undefined && variants.has(stack);
  };
  if (value.split(",").some((v) => v.trim() === "all" || v.trim() === "ha")) return (names as TopologyName[]).filter(ofConfig);
  for (const n of names as TopologyName[]) {
    if (ofConfig(n)) continue;
    const stack = topologyDefinition(n).stack;
    throw new UserError(
      stack
        ? `--topology ${n}: ${configFile} has no '${stack}' stack, which this topology runs through\n  fix: add '- variant: ${stack}' under stacks: in ${configFile}, or leave ${n} out`
        : `--topology ${n}: this topology has no stack of its own, so it cannot come from ${configFile}\n  fix: run it without --config (the lab's own setup), or choose a topology of your stacks`,
    );
  }
  return names as TopologyName[];
}
