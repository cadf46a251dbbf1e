import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Refusal } from "../protocol/onboarding";
import type { StructuredLogger } from "../common/structured-log";
import * as shared from "../common/refusal-responses";

/**
 * The ICG's refusals: the shared shape with `by: "icg"`. A refusal the UMS made behind the tunnel
 * keeps `by: "ums"`: the ICG only carries it.
 */

export type RefusalSpec = Omit<shared.RefusalSpec, "by"> & { readonly by?: string };

const withBy = (spec: RefusalSpec): shared.RefusalSpec => ({ ...spec, by: spec.by ?? "icg" });

export function refusalBody(spec: RefusalSpec): Refusal {
  return shared.refusalBody(withBy(spec));
}

export function refuse(log: StructuredLogger, req: IncomingMessage, res: ServerResponse, spec: RefusalSpec): void {
  shared.refuse(log, req, res, withBy(spec));
}

export function refuseUpgrade(log: StructuredLogger, req: IncomingMessage, socket: Duplex, spec: RefusalSpec): void {
  shared.refuseUpgrade(log, req, socket, withBy(spec));
}
