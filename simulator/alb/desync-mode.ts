import type { DesyncMitigationMode } from "../../core/alb-defaults";
import type { Classification } from "./desync-classifier";

/**
 * What the load balancer does with a classified request in its desync mitigation mode. AWS, ELB
 * user guide, "Desync mitigation mode" (the modes table):
 *
 * | Classification | Monitor | Defensive | Strictest |
 * | Compliant      | Allowed | Allowed   | Allowed   |
 * | Acceptable     | Allowed | Allowed   | Blocked   |
 * | Ambiguous      | Allowed | Allowed¹  | Blocked   |
 * | Severe         | Allowed | Blocked   | Blocked   |
 *
 * ¹ "Routes the requests but closes the client and target connections." A blocked request gets a
 * 400 and its client connection is closed ("Severe: the load balancer blocks the request, serves a
 * 400 response to the client, and closes the client connection").
 */

export type DesyncAction =
  /** Routed as usual. */
  | "allow"
  /** Routed, then the client and target connections are closed. */
  | "allow-then-close"
  /** 400, and the client connection is closed. */
  | "block";

export function desyncAction(mode: DesyncMitigationMode, classification: Classification): DesyncAction {
  if (classification === "Compliant" || mode === "monitor") return "allow";
  if (mode === "strictest") return "block";
  // defensive
  return classification === "Severe" ? "block" : classification === "Ambiguous" ? "allow-then-close" : "allow";
}
