import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Refusal } from "../protocol/onboarding";
import type { StructuredLogger } from "../common/structured-log";
import * as shared from "../common/refusal-responses";

/** The mock UMS's refusals: the shared shape, always `by: "ums"`. */

export type RefusalSpec = Omit<shared.RefusalSpec, "by">;

export function refusalBody(spec: RefusalSpec): Refusal {
  return shared.refusalBody({ ...spec, by: "ums" });
}

export function refuse(log: StructuredLogger, req: IncomingMessage, res: ServerResponse, spec: RefusalSpec): void {
  shared.refuse(log, req, res, { ...spec, by: "ums" });
}

export function refuseUpgrade(log: StructuredLogger, req: IncomingMessage, socket: Duplex, spec: RefusalSpec): void {
  shared.refuseUpgrade(log, req, socket, { ...spec, by: "ums" });
}
