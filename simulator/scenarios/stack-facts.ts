import { readStack } from "../terraform/read-stack";
import type { Lab } from "../runtime/lab";
import type { TopologyDefinition } from "../runtime/topologies/definitions";

/**
 * The settings of a topology's stack that change what a scenario should observe (an allow-list that
 * is off lets /umsapi/ through; a trust store without a CRL lets a revoked device reach the UMS).
 * Read from the synthesized stack, so that an administrator's own choices set the expectations.
 */
export interface StackFacts {
  /** Paths outside the IGEL allow-list get the load balancer's fixed response. */
  readonly pathAllowList: "on" | "off";
  /** The verify listener accepts expired client certificates. */
  readonly ignoreClientCertificateExpiry: "on" | "off";
  /** The trust store has a revocation list. */
  readonly trustStoreCrl: "on" | "off";
}

export type StackFact = keyof StackFacts;

const onOff = (b: boolean): "on" | "off" => (b ? "on" : "off");

/** Facts of a topology with an ALB stack; undefined for the others (their rows do not depend on a stack). */
export function stackFactsOf(lab: Lab, definition: TopologyDefinition): StackFacts | undefined {
  if (definition.front !== "alb" || !definition.stack) return undefined;
  const stack = readStack(lab.stackDir(definition.stack));
  const mtls = stack.listeners.find((l) => l.mutualAuthentication.mode !== "off") ?? stack.listeners[0];
  return {
    pathAllowList: onOff(mtls.defaultActions.some((a) => a.type === "fixed-response")),
    ignoreClientCertificateExpiry: onOff(mtls.mutualAuthentication.ignoreClientCertificateExpiry),
    trustStoreCrl: onOff((mtls.mutualAuthentication.trustStore?.revocationFiles.length ?? 0) > 0),
  };
}
